import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ScenarioResult } from './scenario';

export interface ChaosRun {
  startedAt: string;
  finishedAt?: string;
  machine: string;
  commit: string;
  results: ScenarioResult[];
  /** Scenarios that threw instead of finishing: a broken harness or a dead dependency, not a measured failure. */
  crashed: { id: string; error: string }[];
}

const mib = (bytes?: number) => (bytes === undefined ? '–' : `${Math.round(bytes / 2 ** 20)} MiB`);

export function codesText(errors: Record<string, number>): string {
  const entries = Object.entries(errors);
  return entries.length === 0 ? 'none' : entries.map(([code, n]) => `${code}: ${n}`).join(', ');
}

export const passed = (r: ScenarioResult) => r.checks.every((c) => c.ok);

/** The row every scenario prints, in the report's column order. */
export function rowCells(r: ScenarioResult): string[] {
  return [
    r.id,
    passed(r) ? 'pass' : 'FAIL',
    String(r.sent),
    String(r.answered),
    String(r.timedOut),
    codesText(r.errorsByCode),
    r.rowsLostOrDuplicated === undefined ? '–' : String(r.rowsLostOrDuplicated),
    mib(r.peakRssBytes),
    r.recovery,
  ];
}

export const HEADERS = ['scenario', 'result', 'sent', 'answered', 'timed out', 'errors by code', 'rows lost/dup', 'peak RSS', 'recovery'];

const cell = (text: string) => text.replace(/\|/g, '\\|');

export function markdown(run: ChaosRun): string {
  const lines = [
    '# Chaos suite: report of one run',
    '',
    `Run ${run.startedAt} → ${run.finishedAt ?? '(unfinished)'} on ${run.machine}, commit ${run.commit}. Produced by \`npm run chaos\` (see "Chaos suite" in README.md); raw numbers in results.json.`,
    '',
    '"sent" and "answered" count JSON-RPC calls (each call of a batch counts); "answered" is a JSON-RPC reply, success or error; "timed out" is no reply within the client timeout; `net` is a connection refused or cut.',
    '',
    `| ${HEADERS.join(' | ')} |`,
    `| ${HEADERS.map(() => '---').join(' | ')} |`,
    ...run.results.map((r) => `| ${rowCells(r).map(cell).join(' | ')} |`),
    ...run.crashed.map((c) => `| ${c.id} | CRASHED | | | | | | | ${cell(c.error.split('\n')[0])} |`),
    '',
  ];
  for (const r of run.results) {
    lines.push(`## ${r.id}: ${r.title}`, '', `${r.seconds} s.`, '');
    for (const c of r.checks) lines.push(`- ${c.ok ? '✅' : '❌'} ${c.name}: ${c.detail}`);
    lines.push('');
  }
  for (const c of run.crashed) lines.push(`## ${c.id}: crashed`, '', '```', c.error, '```', '');
  return lines.join('\n');
}

export async function writeReport(run: ChaosRun, dir: string): Promise<string> {
  await writeFile(join(dir, 'results.json'), `${JSON.stringify(run, null, 2)}\n`);
  const path = join(dir, 'REPORT.md');
  await writeFile(path, markdown(run));
  return path;
}
