/**
 * `npm run bench:lifecycle`: what the lifecycle methods cost at scale, on the
 * benchmark's table (bench/README.md, "Lifecycle"):
 * - a page deep into a walk against the first page (keyset paging: the same);
 * - what a retention sweep of a million expired rows costs other readers
 *   (S1's p99 while it runs against S1's p99 without it).
 * Every figure is a ratio within this run; the machine is shared and noisy.
 */
import 'reflect-metadata';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from 'pg';
import type { RowKey } from '../src/js-result/row-key';
import { prepareDatabase } from './bench';
import { openBenchStatements } from './call-sql';
import { createTokens, type Log, seedIfNeeded } from './database';
import { DAY_MS, NAMED_WORKER, SEED_END_MS } from './dataset';
import { explain } from './explain';
import { percentile, runHttpLoad, summarise, type LoadResult } from './load';
import { DEFAULT_DATABASE_URL, flagReader } from './options';
import { startService } from './processes';

const log: Log = (line) => process.stdout.write(`${line}\n`);

interface Options {
  rows: number;
  pages: number;
  samples: number;
  connections: number;
  sliceSec: number;
  outDir: string;
  databaseUrl: string;
}

function parseArgs(argv: string[]): Options {
  const value = flagReader(argv);
  return {
    rows: Number(value('--rows', '1000000')),
    pages: Number(value('--pages', '500')),
    samples: Number(value('--samples', '30')),
    connections: Number(value('--connections', '16')),
    sliceSec: Number(value('--slice', '2')),
    outDir: value('--out', 'bench/results/lifecycle'),
    databaseUrl: process.env.DATABASE_URL?.trim() || DEFAULT_DATABASE_URL,
  };
}

interface RpcAnswer {
  result?: any;
  error?: { code: number; message: string };
}

async function rpc(baseUrl: string, method: string, params: unknown): Promise<RpcAnswer> {
  const res = await fetch(`${baseUrl}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return (await res.json()) as RpcAnswer;
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = process.hrtime.bigint();
  const value = await work();
  return [value, Number(process.hrtime.bigint() - started) / 1e6];
}

interface WalkFigures {
  walk: string;
  pageSize: number;
  pages: number;
  records: number;
  walkSeconds: number;
  firstMs: { p50: number; p95: number };
  deepMs: { p50: number; p95: number };
  /** p50 of the deep page ÷ p50 of the first: 1 means the same cost at any depth. */
  ratio: number;
  /** The position the deep page starts after (for EXPLAIN). */
  deepKey?: RowKey;
}

/** The position inside a cursor (`p1.<base64url "start:id">.<mac>`): the bench reads it to EXPLAIN that page. */
function positionIn(cursor: string): RowKey {
  const [startTime, id] = Buffer.from(cursor.split('.')[1], 'base64url').toString().split(':');
  return { startTime: startTime === '' ? null : startTime, id };
}

/**
 * Walks to page `pages`, then asks for the first page and that deep page in
 * turns, `samples` times each: interleaved, so both see the same machine.
 */
async function benchWalk(baseUrl: string, walk: string, token: string, condition: unknown[], pageSize: number, options: Options): Promise<WalkFigures> {
  const page = (cursor: string | null) => rpc(baseUrl, 'js-result_page', { token, query: { condition }, page_size: pageSize, cursor });
  let cursor: string | null = null;
  let records = 0;
  let deepCursor: string | null = null;
  const walkStarted = Date.now();
  for (let n = 1; n <= options.pages; n++) {
    const reply = await page(cursor);
    if (reply.error) throw new Error(`page ${n} of ${walk}: ${reply.error.message}`);
    records += reply.result.items.length;
    if (n === options.pages - 1) deepCursor = reply.result.next_cursor;
    cursor = reply.result.next_cursor;
    if (cursor === null) throw new Error(`${walk} ended after ${n} pages: the deep page must have pages after it`);
  }
  const walkSeconds = (Date.now() - walkStarted) / 1000;
  const first: number[] = [];
  const deep: number[] = [];
  for (let i = 0; i < options.samples; i++) {
    first.push((await timed(() => page(null)))[1]);
    deep.push((await timed(() => page(deepCursor)))[1]);
  }
  const p = (values: number[], q: number) => percentile(Float64Array.from(values).sort(), q);
  const figures: WalkFigures = {
    walk,
    pageSize,
    pages: options.pages,
    records,
    walkSeconds,
    firstMs: { p50: p(first, 50), p95: p(first, 95) },
    deepMs: { p50: p(deep, 50), p95: p(deep, 95) },
    ratio: p(deep, 50) / p(first, 50),
    deepKey: deepCursor === null ? undefined : positionIn(deepCursor),
  };
  log(`${walk}: page 1 p50 ${figures.firstMs.p50.toFixed(2)} ms, page ${options.pages} p50 ${figures.deepMs.p50.toFixed(2)} ms (×${figures.ratio.toFixed(2)})`);
  return figures;
}

const EXPIRED_WORKERS = 100;
/** The expired workers' names as an index range ('`' follows '_' in byte order). */
const EXPIRED_RANGE = "js_worker_name >= 'old_' AND js_worker_name < 'old`'";

/** `rows` finished rows of workers old_0000…old_0099, all started a year before the seeded data. */
async function addExpiredRows(client: Client, rows: number): Promise<void> {
  const oldest = SEED_END_MS - 400 * DAY_MS;
  for (let from = 0; from < rows; from += 250_000) {
    const to = Math.min(rows, from + 250_000) - 1;
    await client.query(
      `INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time, finish_time, result)
       SELECT 5000 + g % ${EXPIRED_WORKERS}, 'old_' || lpad((g % ${EXPIRED_WORKERS})::text, 4, '0'), 'cron', ${oldest} - g, ${oldest} - g + 50, '{"status": 200}'::jsonb
       FROM generate_series(${from}::bigint, ${to}::bigint) g`,
    );
    log(`expired rows added: ${(to + 1).toLocaleString('en-US')}`);
  }
  await client.query('VACUUM (ANALYZE) js_result');
}

async function expiredLeft(client: Client): Promise<number> {
  const { rows } = await client.query(`SELECT count(*)::int AS n FROM js_result WHERE ${EXPIRED_RANGE}`);
  return rows[0].n;
}

interface SweepFigures {
  expiredRows: number;
  sweepSeconds: number;
  rowsPerSecond: number;
  before: LoadResult;
  during: LoadResult;
  after: LoadResult;
  /** S1 p99 during the sweep ÷ the mean of S1 p99 before and after it. */
  p99Ratio: number;
}

/** S1's load in slices of `sliceSec` until `done` says stop; the latencies of every slice pooled. */
async function s1Until(baseUrl: string, token: string, options: Options, done: () => Promise<boolean>): Promise<LoadResult> {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'js-result_query',
    params: { token, query: { condition: [{ js_worker_name: NAMED_WORKER }, { limit: 10 }] } },
  });
  const latencies: number[] = [];
  let seconds = 0;
  let errors = 0;
  do {
    const run = await runHttpLoad({ url: `${baseUrl}/`, body, connections: options.connections, durationSec: options.sliceSec, verify: (b) => !b.includes('"error"') });
    latencies.push(...run.latenciesMs);
    seconds += run.seconds;
    errors += run.errors;
  } while (!(await done()));
  return summarise(latencies, seconds, errors);
}

async function benchSweep(baseUrl: string, client: Client, tokens: { super: string; named: string }, options: Options): Promise<SweepFigures> {
  await client.query(`DELETE FROM js_result_retention`);
  if ((await expiredLeft(client)) !== options.rows) {
    await client.query(`DELETE FROM js_result WHERE ${EXPIRED_RANGE}`);
    await addExpiredRows(client, options.rows);
  }
  const baselineSlices = 5;
  let slices = 0;
  const before = await s1Until(baseUrl, tokens.named, options, async () => ++slices >= baselineSlices);
  log(`S1 without a sweep: p99 ${before.p99Ms.toFixed(2)} ms, ${before.rps.toFixed(0)} req/s`);

  const set = await rpc(baseUrl, 'js-result_retention_set', { token: tokens.super, js_worker: 'old_*', keep_days: 30 });
  if (set.error) throw new Error(`js-result_retention_set: ${set.error.message}`);
  const started = Date.now();
  let left = options.rows;
  const during = await s1Until(baseUrl, tokens.named, options, async () => {
    left = await expiredLeft(client);
    log(`sweep: ${left.toLocaleString('en-US')} expired rows left after ${((Date.now() - started) / 1000).toFixed(0)} s`);
    return left === 0 || Date.now() - started > 600_000;
  });
  const sweepSeconds = (Date.now() - started) / 1000;
  if (left !== 0) throw new Error(`the sweep did not finish in 10 minutes (${left} rows left)`);
  await rpc(baseUrl, 'js-result_retention_delete', { token: tokens.super, id: set.result.id });

  slices = 0;
  const after = await s1Until(baseUrl, tokens.named, options, async () => ++slices >= baselineSlices);
  log(`S1 during the sweep: p99 ${during.p99Ms.toFixed(2)} ms; after it: p99 ${after.p99Ms.toFixed(2)} ms`);
  return {
    expiredRows: options.rows,
    sweepSeconds,
    rowsPerSecond: options.rows / sweepSeconds,
    before,
    during,
    after,
    p99Ratio: during.p99Ms / ((before.p99Ms + after.p99Ms) / 2),
  };
}

/** EXPLAIN (ANALYZE, BUFFERS) of the first and the deep page of the super token's walk, as the service runs them. */
async function explainPages(databaseUrl: string, walk: WalkFigures): Promise<string> {
  const bench = await openBenchStatements(databaseUrl);
  try {
    const plans: string[] = [];
    for (const [label, after] of [['page 1', undefined], [`page ${walk.pages}`, walk.deepKey]] as const) {
      const statement = bench.statements.page([], { kind: 'all' }, after, walk.pageSize + 1);
      plans.push(`-- ${label}\n${(await explain(databaseUrl, statement, walk.pageSize + 1)).text}`);
    }
    return plans.join('\n\n');
  } finally {
    await bench.close();
  }
}

function report(options: Options, walks: WalkFigures[], sweep: SweepFigures, plans: string): string {
  const ms = (v: number) => v.toFixed(2);
  const load = (r: LoadResult) => `${r.rps.toFixed(0)} | ${ms(r.p50Ms)} | ${ms(r.p99Ms)} | ${r.errors}`;
  return `# Lifecycle benchmark

\`npm run bench:lifecycle\` on ${options.rows.toLocaleString('en-US')} seeded rows (bench/README.md, "Lifecycle"), ${new Date().toISOString()}.

## Pages: the first against a deep one

Each walk was followed to its deep page, about halfway through it (the page sizes are chosen so); then the
first page and the deep page were asked for in turns, ${options.samples} times each, one request at a time.

| walk | page_size | deep page | records walked to it | walk to it (s) | page 1 p50 / p95 (ms) | deep page p50 / p95 (ms) | deep ÷ first (p50) |
|---|---|---|---|---|---|---|---|
${walks.map((w) => `| ${w.walk} | ${w.pageSize} | ${w.pages} | ${w.records.toLocaleString('en-US')} | ${w.walkSeconds.toFixed(1)} | ${ms(w.firstMs.p50)} / ${ms(w.firstMs.p95)} | ${ms(w.deepMs.p50)} / ${ms(w.deepMs.p95)} | ${w.ratio.toFixed(2)} |`).join('\n')}

The plans of the super token's first and deep page, as the service runs them (one index range each, the
same rows and about the same buffers; a deep page starts its range after the cursor instead of at the top):

\`\`\`
${plans}
\`\`\`

## A retention sweep of ${sweep.expiredRows.toLocaleString('en-US')} expired rows, and S1's readers

${sweep.expiredRows.toLocaleString('en-US')} finished rows of 100 workers \`old_*\`, a year older than the rest, and a policy
\`{"js_worker": "old_*", "keep_days": 30}\` set while S1 runs (${options.connections} connections, in ${options.sliceSec} s slices).
The sweep took ${sweep.sweepSeconds.toFixed(0)} s (${sweep.rowsPerSecond.toFixed(0)} rows/s).

| S1 | req/s | p50 (ms) | p99 (ms) | errors |
|---|---|---|---|---|
| before the sweep | ${load(sweep.before)} |
| during the sweep | ${load(sweep.during)} |
| after the sweep | ${load(sweep.after)} |

S1 p99 during the sweep ÷ without it (mean of before and after): **${sweep.p99Ratio.toFixed(2)}**.
`;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  await mkdir(options.outDir, { recursive: true });
  await prepareDatabase(options.databaseUrl);
  await seedIfNeeded(options.databaseUrl, options.rows, log);
  const tokens = await createTokens(options.databaseUrl);
  const service = await startService({ databaseUrl: options.databaseUrl, poolSize: 10 }, { RETENTION_SWEEP_INTERVAL_MS: '1000' });
  const client = new Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    // Dead rows of an earlier run's sweep would sit at the end of the walk's index range.
    await client.query('VACUUM (ANALYZE) js_result');
    // Page sizes put the deep page halfway through each walk: a walk of twice as many pages.
    const walks = [
      await benchWalk(service.url, 'every record (super token)', tokens.super, [], Math.round(options.rows / 2 / options.pages), options),
      await benchWalk(service.url, 'a wildcard token (10 workers, 1%)', tokens.wildcard, [], Math.max(1, Math.round(options.rows / 200 / options.pages)), options),
      await benchWalk(service.url, 'one worker\'s failures', tokens.named, [{ js_worker_name: NAMED_WORKER }, 'is_failure'], 1, { ...options, pages: Math.min(options.pages, 50) }),
    ];
    const plans = await explainPages(options.databaseUrl, walks[0]);
    const sweep = await benchSweep(service.url, client, tokens, options);
    await writeFile(join(options.outDir, 'results.json'), JSON.stringify({ options, walks, sweep }, null, 2));
    await writeFile(join(options.outDir, 'REPORT.md'), report(options, walks, sweep, plans));
    log(`report: ${join(options.outDir, 'REPORT.md')}`);
  } finally {
    await client.end();
    await service.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
