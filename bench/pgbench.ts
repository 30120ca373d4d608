import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CUSTOM_PLANS_OPTION } from '../src/database/prepared-statements';
import type { Statement } from '../src/js-result/js-result.statements';
import type { RawRun } from './load';

/** A SQL string literal; standard_conforming_strings is on (checked by the caller), so only quotes double. */
export function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** An array value in PostgreSQL's text form, every element quoted: {"a","b"}. */
function arrayText(items: unknown[]): string {
  return `{${items.map((item) => `"${String(item).replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}

function literalFor(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' || typeof value === 'bigint') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`cannot inline ${value}`);
    return String(value);
  }
  if (Array.isArray(value)) return quoteLiteral(arrayText(value));
  // Always quoted: an untyped literal takes the type the context (or the cast) gives it, as a parameter does.
  if (typeof value === 'string') return quoteLiteral(value);
  throw new Error(`cannot inline a ${typeof value} into SQL`);
}

/**
 * The statement with its values written in as literals, on one line, for a
 * pgbench script. Casts in the text ($1::bigint, $2::text[]) stay, so the
 * types the server sees are the same as with bound parameters.
 */
export function inlineStatement(statement: Statement): string {
  const oneLine = statement.text.replace(/\s+/g, ' ').trim();
  return oneLine.replace(/\$(\d+)/g, (_, n: string) => {
    const index = Number(n) - 1;
    if (index >= statement.values.length) throw new Error(`statement has no value for $${n}`);
    return literalFor(statement.values[index]);
  });
}

/** One pgbench transaction per scenario request: a batch becomes its statements in sequence. */
export function pgbenchScript(statements: Statement[]): string {
  return statements.map((s) => `${inlineStatement(s)};\n`).join('');
}

export interface PgbenchLoad {
  databaseUrl: string;
  script: string;
  clients: number;
  threads: number;
  durationSec: number;
}

function run(command: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    // Same session settings as the servers' pools.
    const env = { ...process.env, PGOPTIONS: CUSTOM_PLANS_OPTION };
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** Reads the per-transaction logs: the third field is the latency in µs ("failed" for a failed one). */
async function readTransactionLogs(dir: string): Promise<{ latenciesMs: number[]; failed: number }> {
  const latenciesMs: number[] = [];
  let failed = 0;
  for (const file of await readdir(dir)) {
    if (!file.startsWith('txlog')) continue;
    for (const line of (await readFile(join(dir, file), 'utf8')).split('\n')) {
      if (!line) continue;
      const micros = Number(line.split(' ')[2]);
      if (Number.isFinite(micros)) latenciesMs.push(micros / 1000);
      else failed++;
    }
  }
  return { latenciesMs, failed };
}

/** Errors pgbench reports on stdout: failed transactions and aborted clients. */
function reportedErrors(output: string): number {
  const failed = /number of failed transactions: (\d+)/.exec(output);
  const aborted = output.match(/client \d+ aborted/g)?.length ?? 0;
  return (failed ? Number(failed[1]) : 0) + aborted;
}

/** The ceiling: the database alone running the same SQL at the same concurrency. */
export async function runPgbench(load: PgbenchLoad, keepLog = true): Promise<RawRun> {
  const dir = await mkdtemp(join(tmpdir(), 'jsr-pgbench-'));
  try {
    await writeFile(join(dir, 'script.sql'), load.script);
    // Prepared, as the servers' statements are. The values are literals here, so PostgreSQL plans the
    // statement once and reuses the plan, where the servers have theirs planned for each call's values.
    const args = ['-n', '-M', 'prepared', '-c', String(load.clients), '-j', String(load.threads), '-T', String(load.durationSec), '-f', 'script.sql'];
    if (keepLog) args.push('-l', '--log-prefix=txlog');
    const { code, output } = await run('pgbench', [...args, load.databaseUrl], dir);
    const processed = /number of transactions actually processed: (\d+)/.exec(output);
    if (!processed) throw new Error(`pgbench failed (exit ${code}):\n${output}`);
    const { latenciesMs, failed } = keepLog ? await readTransactionLogs(dir) : { latenciesMs: [], failed: 0 };
    const errors = reportedErrors(output) + (code === 0 ? 0 : 1) + failed;
    // -T counts from the start, connections included; the rate is over the time spent running.
    const connecting = /initial connection time = ([\d.]+) ms/.exec(output);
    const seconds = load.durationSec - (connecting ? Number(connecting[1]) / 1000 : 0);
    return { latenciesMs, seconds, errors };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
