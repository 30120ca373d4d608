import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compactNumber, latencyBySizeChart, type LineSeries, rpsChart } from './charts';
import type { PlanCheck } from './explain';
import type { LoadResult } from './load';
import type { ScenarioResult, TargetName } from './scenario-runner';
import { TARGETS } from './scenario-runner';

export interface PlanRecord {
  id: string;
  sql: string;
  check: PlanCheck;
}

export interface SizeResult {
  rows: number;
  seeded: boolean;
  seedSeconds: number;
  shape: Record<string, number>;
  scenarios: ScenarioResult[];
  plans: PlanRecord[];
  explainFile: string;
}

export interface BenchRun {
  startedAt: string;
  finishedAt: string;
  machine: Record<string, string>;
  postgres: Record<string, string>;
  settings: { durationSec: number; rounds: number; warmupSec: number; connections: number; poolSize: number; pgbenchThreads: number };
  sizes: SizeResult[];
}

const MB = 1024 * 1024;
const READ_SCENARIOS_FOR_RATIO = ['S1', 'S2', 'S3', 'S4'];

const fmtRps = (r?: LoadResult) => (r ? r.rps.toFixed(0) : '–');
const fmtMs = (v?: number) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(2));
const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined && b > 0 ? a / b : NaN);
const fmtRatio = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '–');
const mark = (ok: boolean | undefined) => (ok === undefined ? 'n/a' : ok ? '✅ met' : '❌ missed');

function scenario(size: SizeResult, id: string): ScenarioResult | undefined {
  return size.scenarios.find((s) => s.id === id);
}

export interface TargetVerdict {
  target: string;
  measured: string;
  met: boolean | undefined;
}

/** Every target of the issue, judged from the numbers of this run only. */
export function judgeTargets(run: BenchRun): TargetVerdict[] {
  const verdicts: TargetVerdict[] = [];
  for (const size of run.sizes) {
    const rows = compactNumber(size.rows);
    const ratios = READ_SCENARIOS_FOR_RATIO.map((id) => {
      const s = scenario(size, id);
      return { id, value: ratio(s?.results.service.rps, s?.results.bare.rps) };
    }).filter((r) => Number.isFinite(r.value));
    if (ratios.length > 0) {
      verdicts.push({
        target: `service ÷ bare ≥ 0.7 req/s, S1–S4 (${rows} rows)`,
        measured: ratios.map((r) => `${r.id} ${r.value.toFixed(2)}`).join(', '),
        met: ratios.every((r) => r.value >= 0.7),
      });
    }
    const s1 = scenario(size, 'S1')?.results.service.rps;
    const s3 = scenario(size, 'S3')?.results.service.rps;
    if (s1 && s3) {
      verdicts.push({ target: `S3 ≥ ½ of S1 req/s (${rows} rows)`, measured: `S3/S1 = ${(s3 / s1).toFixed(2)}`, met: s3 >= s1 / 2 });
      verdicts.push({ target: `stretch: S1 ≤ 1.5 × S3 req/s (${rows} rows)`, measured: `S1/S3 = ${(s1 / s3).toFixed(2)}`, met: s1 <= 1.5 * s3 });
    }
    const s7 = scenario(size, 'S7')?.results.service.rss;
    if (s7) {
      const growth = (s7.peakBytes - s7.beforeBytes) / MB;
      verdicts.push({ target: `S7 service peak RSS growth < 200 MB (${rows} rows)`, measured: `${growth.toFixed(0)} MB`, met: growth < 200 });
    }
    const errors = size.scenarios.flatMap((s) => TARGETS.map((t) => ({ s: s.id, t, n: s.results[t].errors }))).filter((e) => e.n > 0);
    verdicts.push({
      target: `zero errors in every scenario (${rows} rows)`,
      measured: errors.length === 0 ? '0' : errors.map((e) => `${e.s} ${e.t}: ${e.n}`).join(', '),
      met: errors.length === 0,
    });
    const badPlans = size.plans.filter((p) => !p.check.indexOnly || !p.check.noFullSort);
    verdicts.push({
      target: `every plan an index scan, no sort of the whole set (${rows} rows)`,
      measured: badPlans.length === 0 ? `all ${size.plans.length} plans` : `not: ${badPlans.map((p) => p.id).join(', ')}`,
      met: size.plans.length === 0 ? undefined : badPlans.length === 0,
    });
  }
  if (run.sizes.length >= 2) {
    const small = run.sizes[0];
    const large = run.sizes[run.sizes.length - 1];
    for (const id of ['S1', 'S3']) {
      const a = scenario(small, id)?.results.service.p50Ms;
      const b = scenario(large, id)?.results.service.p50Ms;
      if (a !== undefined && b !== undefined) {
        verdicts.push({
          target: `${id} p50 at ${compactNumber(large.rows)} ≤ 1.25 × p50 at ${compactNumber(small.rows)}`,
          measured: `${b.toFixed(2)} ms vs ${a.toFixed(2)} ms (× ${(b / a).toFixed(2)})`,
          met: b <= 1.25 * a,
        });
      }
    }
  }
  return verdicts;
}

function scenarioTable(size: SizeResult): string {
  const head = [
    '| scenario | service req/s | p50 ms | p99 ms | err | bare req/s | p50 ms | p99 ms | err | ceiling req/s | p50 ms | p99 ms | err | service÷bare | service÷ceiling | notes |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  ];
  const rows = size.scenarios.map((s) => {
    const cells = TARGETS.flatMap((t: TargetName) => {
      const r = s.results[t];
      return [fmtRps(r), fmtMs(r?.p50Ms), fmtMs(r?.p99Ms), String(r?.errors ?? '–')];
    });
    const vsBare = fmtRatio(ratio(s.results.service.rps, s.results.bare.rps));
    const vsCeiling = fmtRatio(ratio(s.results.service.rps, s.results.ceiling.rps));
    return `| ${s.id} ${s.title} | ${cells.join(' | ')} | ${vsBare} | ${vsCeiling} | ${runNotes(s)} |`;
  });
  return [...head, ...rows].join('\n');
}

/** What the ceiling is for a WebSocket scenario, rows deleted per second (S6), and any run disturbed by other processes. */
function runNotes(s: ScenarioResult): string {
  const notes: string[] = [];
  if (s.transport === 'ws') notes.push('ceiling: the same pgbench run of the S1 statement (no WebSocket in it)');
  if (TARGETS.some((t) => s.results[t].deletedPerSec !== undefined)) {
    notes.push(`rows deleted/s: ${TARGETS.map((t) => `${t} ${s.results[t].deletedPerSec?.toFixed(0) ?? '–'}`).join(', ')}`);
  }
  const disturbed = TARGETS.filter((t) => s.results[t].foreignCpu > 0.02);
  if (disturbed.length > 0) {
    notes.push(`CPU taken by other processes: ${disturbed.map((t) => `${t} ${(s.results[t].foreignCpu * 100).toFixed(0)}%`).join(', ')}`);
  }
  const repeated = TARGETS.filter((t) => s.results[t].repeatedSlices > 0);
  if (repeated.length > 0) {
    notes.push(`slices repeated (disturbed): ${repeated.map((t) => `${t} ${s.results[t].repeatedSlices}`).join(', ')}`);
  }
  const stolen = TARGETS.filter((t) => s.results[t].stealCpu > 0.02);
  if (stolen.length > 0) {
    notes.push(`hypervisor steal: ${stolen.map((t) => `${t} ${(s.results[t].stealCpu * 100).toFixed(0)}%`).join(', ')}`);
  }
  return notes.join('; ');
}

/** Where each request's CPU went: the server process, the PostgreSQL backends, the load generator. */
function cpuTable(size: SizeResult): string {
  const lines = [
    '| scenario | service: server / db / load µs | bare: server / db / load µs | ceiling: db / load µs |',
    '|---|--:|--:|--:|',
  ];
  const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : '–');
  for (const s of size.scenarios) {
    const [svc, bare, ceil] = TARGETS.map((t) => s.results[t].cpuPerRequestUs);
    lines.push(
      `| ${s.id} | ${fmt(svc.server)} / ${fmt(svc.database)} / ${fmt(svc.load)} | ${fmt(bare.server)} / ${fmt(bare.database)} / ${fmt(bare.load)} | ${fmt(ceil.database)} / ${fmt(ceil.load)} |`,
    );
  }
  return lines.join('\n');
}

function planTable(size: SizeResult): string {
  const lines = ['| scenario | scans of js_result | rows into Sort nodes | index scans only | no sort of the whole set |', '|---|---|---|---|---|'];
  for (const p of size.plans) {
    lines.push(
      `| ${p.id} | ${p.check.scans.join('<br>') || '–'} | ${p.check.sortInputs.join(', ') || 'no sort'} | ${p.check.indexOnly ? 'yes' : '**no**'} | ${p.check.noFullSort ? 'yes' : '**no**'} |`,
    );
  }
  return lines.join('\n');
}

function latencyBySizeTable(run: BenchRun): string {
  const lines = [
    `| scenario | target | ${run.sizes.map((s) => `p50 ms @ ${compactNumber(s.rows)}`).join(' | ')} | largest ÷ smallest |`,
    `|---|---|${run.sizes.map(() => '--:').join('|')}|--:|`,
  ];
  for (const id of ['S1', 'S3']) {
    for (const t of TARGETS) {
      const values = run.sizes.map((s) => scenario(s, id)?.results[t].p50Ms);
      const growth = ratio(values[values.length - 1], values[0]);
      lines.push(`| ${id} | ${t} | ${values.map(fmtMs).join(' | ')} | ${fmtRatio(growth)} |`);
    }
  }
  return lines.join('\n');
}

/** S8 against S1: the same call over a WebSocket connection and over HTTP, per server. */
function webSocketTable(run: BenchRun): string {
  const lines = [
    '| rows | server | S1 HTTP req/s | S8 WebSocket req/s | S8 ÷ S1 | S1 p50 ms | S8 p50 ms | S1 server µs/req | S8 server µs/req |',
    '|--:|---|--:|--:|--:|--:|--:|--:|--:|',
  ];
  const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : '–');
  for (const size of run.sizes) {
    const http = scenario(size, 'S1');
    const ws = scenario(size, 'S8');
    if (!http || !ws) continue;
    for (const server of ['service', 'bare'] as const) {
      const [h, w] = [http.results[server], ws.results[server]];
      lines.push(
        `| ${compactNumber(size.rows)} | ${server} | ${fmtRps(h)} | ${fmtRps(w)} | ${fmtRatio(ratio(w.rps, h.rps))} | ${fmtMs(h.p50Ms)} | ${fmtMs(w.p50Ms)} | ${fmt(h.cpuPerRequestUs.server)} | ${fmt(w.cpuPerRequestUs.server)} |`,
      );
    }
  }
  return lines.length > 2 ? lines.join('\n') : '_S1 and S8 were not both run._';
}

function rssTable(run: BenchRun): string {
  const lines = ['| rows | server | RSS before S7 MB | peak RSS MB | growth MB |', '|--:|---|--:|--:|--:|'];
  for (const size of run.sizes) {
    const s7 = scenario(size, 'S7');
    if (!s7) continue;
    for (const server of ['service', 'bare'] as const) {
      const rss = s7.results[server].rss;
      if (!rss) continue;
      const { beforeBytes, peakBytes } = rss;
      lines.push(`| ${compactNumber(size.rows)} | ${server} | ${(beforeBytes / MB).toFixed(0)} | ${(peakBytes / MB).toFixed(0)} | ${((peakBytes - beforeBytes) / MB).toFixed(0)} |`);
    }
  }
  return lines.length > 2 ? lines.join('\n') : '_S7 was not run._';
}

function machineSection(run: BenchRun): string {
  const settings = Object.entries(run.postgres).filter(([k]) => k !== 'version').map(([k, v]) => `${k}=${v}`).join(', ');
  return [
    `- Date: ${run.startedAt} → ${run.finishedAt}`,
    ...Object.entries(run.machine).map(([k, v]) => `- ${k}: ${v}`),
    `- PostgreSQL ${run.postgres.version} on the same machine (${settings})`,
    `- Load: autocannon, ${run.settings.connections} connections, ${run.settings.warmupSec} s warm-up then ${run.settings.durationSec} s measured per target, in ${run.settings.rounds} slices taken in turns with the other targets; pgbench -c ${run.settings.connections} -j ${run.settings.pgbenchThreads} -M prepared (plan_cache_mode=force_custom_plan, as the servers' connections), the same; S8: ${run.settings.connections} WebSocket clients (bench/ws-load.ts, in the harness process as autocannon), one connection and one request in flight each, the same`,
    `- Pool: ${run.settings.poolSize} connections for the service (DB_POOL_SIZE) and for the bare server alike`,
    '- Load generator, servers and database share the same cores, so absolute numbers are lower than on separate machines; the ratios are what the targets are about.',
  ].join('\n');
}

function sizeSection(size: SizeResult): string {
  const shape = size.shape;
  const seeded = size.seeded ? `seeded in ${size.seedSeconds.toFixed(0)} s` : 'reused from an earlier run';
  return [
    `### ${size.rows.toLocaleString('en-US')} rows`,
    '',
    `Table ${(shape.total_bytes / MB).toFixed(0)} MB with indexes (heap ${(shape.heap_bytes / MB).toFixed(0)} MB); average param ${shape.param_bytes} B, result ${shape.result_bytes} B of JSON; ${seeded}.`,
    '',
    scenarioTable(size),
    '',
    'CPU time per request (from /proc; the machine is saturated, so req/s follows the sum):',
    '',
    cpuTable(size),
    '',
    `Plans (EXPLAIN (ANALYZE, BUFFERS) of every statement: [${size.explainFile}](${size.explainFile})):`,
    '',
    planTable(size),
  ].join('\n');
}

const METHOD = `## What is measured

- **Data**: N rows over 1,000 workers \`w_0000\` … \`w_0999\` (equal shares), 80% success, 10% failure, 10% running, start times spread over the 90 days before 2025-06-01, param + result about 200 bytes of JSON. Every row is a function of its index (\`bench/dataset.ts\`), seeded with \`generate_series\` in chunks, indexes rebuilt, then \`VACUUM ANALYZE\`.
- **Tokens**: the super token; a token for one named worker (\`w_0042\`, S1/S2/S5); a wildcard token \`w_000*\` covering 10 workers = 1% (S3/S4); a token for \`w_0500\`, the worker S6 deletes from.
- **Scenarios**: S1 \`[{js_worker_name}, {limit: 10}]\`; S2 \`[{js_worker_name}, "is_running"]\` (no limit: up to the 1,000 cap); S3 \`[{limit: 20}]\` with the wildcard token; S4 \`["is_failure", {start_time_from_to: last 7 days}]\` with the wildcard token; S5 a batch of 10 S1 calls (req/s counts HTTP requests; pgbench runs the 10 statements in sequence per transaction); S6 \`js-result_delete\` with \`[{js_worker_name: w_0500}, "last"]\` while a refill loop keeps the worker's row count (the worker is restored exactly after each target); S7 \`[{limit: 10000}]\` with the super token; S8 the S1 call sent as WebSocket text frames (\`ws://host:port/\`), each client one persistent connection with one request in flight (a closed loop, as autocannon's connections), its ceiling the same pgbench run of the S1 statement; S9 \`js-result_page\` with no conditions and \`page_size: 10000\`, the super token (the first page; its ceiling and plan S7's statement with a limit of 10,001, the rows a page reads: a cursor cannot run alone in pgbench).
- **service**: \`node dist/src/main.js\` (NestJS 11 on Fastify, TypeORM 0.3, pg), LOG_LEVEL=warn. **bare**: \`bench/bare-server.ts\`, node:http + pg, parsing JSON-RPC, authenticating (cached token row, SHA-256 compare), checking permissions and running the statement built by the service's own \`JsResultStatements\` in its plain-rows form, rows through \`toRecord\`. **ceiling**: pgbench running the service's statement (PostgreSQL assembling the JSON) with the values written in as literals.
- A reply counts as an error when the connection fails, the HTTP status is not 2xx, or the JSON-RPC reply holds an \`error\`; over WebSocket (S8) also a connection that closes, a request unanswered within 30 s and a reply that does not carry its request's id. Latency percentiles are computed from every request's own time (autocannon's histogram rounds to whole ms) and from pgbench's per-transaction log.`;

export function renderReport(run: BenchRun): string {
  const verdicts = judgeTargets(run);
  return [
    '# js-result benchmark',
    '',
    machineSection(run),
    '',
    '## Targets',
    '',
    '| target | measured | |',
    '|---|---|---|',
    ...verdicts.map((v) => `| ${v.target} | ${v.measured} | ${mark(v.met)} |`),
    '',
    '## Results',
    '',
    '![req/s per scenario](rps.svg)',
    '',
    ...run.sizes.flatMap((size) => [sizeSection(size), '']),
    '## p50 latency against table size (S1, S3)',
    '',
    '![p50 against table size](p50-vs-size.svg)',
    '',
    latencyBySizeTable(run),
    '',
    '## WebSocket against HTTP (S8 against S1)',
    '',
    'The same call, answered by the same server: over one persistent WebSocket connection per client (S8) and over HTTP keep-alive connections (S1), both with one request in flight per connection.',
    '',
    webSocketTable(run),
    '',
    '## S7 memory (10,000-record replies)',
    '',
    rssTable(run),
    '',
    METHOD,
    '',
  ].join('\n');
}

function charts(run: BenchRun): { rps: string; p50: string } {
  const panels = run.sizes.map((size) => ({
    title: `${size.rows.toLocaleString('en-US')} rows`,
    bars: size.scenarios.map((s) => ({
      scenario: s.id,
      values: Object.fromEntries(TARGETS.map((t) => [t, s.results[t].rps])),
    })),
  }));
  const series: LineSeries[] = ['S1', 'S3'].flatMap((id) =>
    TARGETS.map((t) => ({
      name: id,
      target: t,
      dashed: id === 'S3',
      points: run.sizes
        .map((size) => ({ x: size.rows, y: scenario(size, id)?.results[t].p50Ms ?? NaN }))
        .filter((p) => Number.isFinite(p.y)),
    })),
  ).filter((s) => s.points.length > 0);
  return {
    rps: rpsChart(panels, TARGETS),
    p50: latencyBySizeChart(series, 'p50 latency against table size: S1 (named worker) and S3 (wildcard token)'),
  };
}

/** Writes REPORT.md, results.json and the two charts; the explain files are written as each size finishes. */
export async function writeReport(run: BenchRun, outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const { rps, p50 } = charts(run);
  const reportPath = join(outDir, 'REPORT.md');
  await writeFile(reportPath, renderReport(run));
  await writeFile(join(outDir, 'results.json'), `${JSON.stringify(run, null, 2)}\n`);
  await writeFile(join(outDir, 'rps.svg'), rps);
  await writeFile(join(outDir, 'p50-vs-size.svg'), p50);
  return reportPath;
}

/** One file per size with the SQL and the plan of every scenario. */
export function explainFileText(rows: number, entries: { id: string; title: string; sql: string; values: unknown[]; plan: string }[]): string {
  return entries
    .map((e) =>
      [
        `=== ${e.id}: ${e.title} (${rows.toLocaleString('en-US')} rows) ===`,
        e.sql.trim(),
        `-- values: ${JSON.stringify(e.values)}`,
        '',
        e.plan,
        '',
      ].join('\n'),
    )
    .join('\n');
}
