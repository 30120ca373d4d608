/**
 * `npm run bench -- --backend embedded`: the service on its embedded database
 * (PGlite in a data directory), seeded with the same rows as the PostgreSQL
 * bench. There is no bare server nor pgbench here: a hand-written server over
 * PGlite would measure PGlite, not the service, and pgbench cannot reach it.
 * So the figures are the service's own, to be set beside the PostgreSQL run's.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DataSource } from 'typeorm';
import { openDataSource } from '../src/database/data-source.factory';
import { machineFacts } from './bench';
import { startCpuMeter, waitForQuietCpu } from './cpu';
import { createTokensOn, type Log } from './database';
import { INSERT_COLUMNS, rowsSelectSql, SEED_VERSION } from './dataset';
import { type LoadResult, runHttpLoad, summarise } from './load';
import type { BenchOptions } from './options';
import { type RssSample, sampleRss, startServiceOn } from './processes';
import { type BenchTokens, replyCheckFor, requestBody, requestFrame, SCENARIOS, type Scenario } from './scenarios';
import { runWsLoad } from './ws-load';
import { wsUrl } from './scenario-runner';

/** Rows per INSERT while seeding: PGlite holds a statement's work in its WebAssembly heap. */
const SEED_CHUNK = 50_000;

/** S6 refills its worker through a PostgreSQL connection while it runs; the embedded database has no second one. */
const UNSUPPORTED = new Set(['S6']);

/** The directory the embedded bench keeps its database in, per size (data/ is not committed). */
export function embeddedDataDir(options: Pick<BenchOptions, 'dataDir'>, rows: number): string {
  return resolve(options.dataDir ?? join('data', `bench-embedded-${rows}`));
}

async function seededRows(dataSource: DataSource): Promise<number | undefined> {
  await dataSource.query('CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text NOT NULL)');
  const rows: { key: string; value: string }[] = await dataSource.query('SELECT key, value FROM bench_meta');
  const meta = Object.fromEntries(rows.map((r) => [r.key, r.value]));
  return meta.version === SEED_VERSION && meta.rows !== undefined ? Number(meta.rows) : undefined;
}

/**
 * Opens (and migrates) the embedded database in `dataDir`, seeds it with
 * exactly `rows` rows unless it holds them, and makes the scenario tokens.
 * The service must not be running on it (the directory is locked).
 */
export async function prepareEmbedded(dataDir: string, rows: number, log: Log): Promise<BenchTokens> {
  const dataSource = await openDataSource({ database: { kind: 'embedded', dataDir }, poolSize: 1, statementTimeoutMs: 600_000 });
  try {
    if ((await seededRows(dataSource)) !== rows) {
      const started = Date.now();
      await dataSource.query('DELETE FROM bench_meta');
      await dataSource.query('TRUNCATE js_result');
      for (let from = 0; from < rows; from += SEED_CHUNK) {
        const to = Math.min(rows, from + SEED_CHUNK) - 1;
        await dataSource.query(`INSERT INTO js_result (${INSERT_COLUMNS}) ${rowsSelectSql(`generate_series(${from}::bigint, ${to}::bigint)`)}`);
        log(`seeded ${(to + 1).toLocaleString('en-US')} / ${rows.toLocaleString('en-US')} rows (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      }
      await dataSource.query(`SELECT setval(pg_get_serial_sequence('js_result', 'id'), ${rows})`);
      await dataSource.query('VACUUM (ANALYZE) js_result');
      await dataSource.query(`INSERT INTO bench_meta (key, value) VALUES ('version', $1), ('rows', $2)`, [SEED_VERSION, String(rows)]);
      await dataSource.query('CHECKPOINT');
    } else {
      log(`${dataDir} already holds ${rows.toLocaleString('en-US')} rows: not reseeding`);
    }
    return await createTokensOn(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

export interface EmbeddedScenarioResult extends LoadResult {
  id: string;
  title: string;
  /** CPU time of the service process (both of its threads) per request, µs. */
  serverCpuUs: number;
  /** Share of all CPU time taken by other processes during the run (0–1). */
  foreignCpu: number;
  rss?: RssSample;
}

function loadOnce(scenario: Scenario, url: string, tokens: BenchTokens, connections: number, durationSec: number) {
  const verify = replyCheckFor(scenario);
  if (scenario.transport === 'ws') {
    return runWsLoad({ url: wsUrl(url), frame: requestFrame(scenario, tokens), connections, durationSec, verify });
  }
  return runHttpLoad({ url, body: requestBody(scenario, tokens), connections, durationSec, verify });
}

async function runEmbeddedScenario(scenario: Scenario, service: { url: string; pid: number }, tokens: BenchTokens, options: BenchOptions, log: Log) {
  const sampler = scenario.measureRss ? sampleRss(service.pid) : undefined;
  if (options.warmupSec > 0) await loadOnce(scenario, service.url, tokens, options.connections, options.warmupSec);
  const rounds = Math.max(1, Math.min(options.rounds, options.durationSec));
  const sliceSec = Math.max(1, Math.round(options.durationSec / rounds));
  const latencies: number[] = [];
  let seconds = 0;
  let errors = 0;
  let serverSec = 0;
  let foreign = 0;
  for (let round = 0; round < rounds; round++) {
    if (options.guardCpu) await waitForQuietCpu(log);
    const meter = startCpuMeter(service.pid, '');
    const run = await loadOnce(scenario, service.url, tokens, options.connections, sliceSec);
    const cpu = meter.stop();
    latencies.push(...run.latenciesMs);
    seconds += run.seconds;
    errors += run.errors;
    serverSec += cpu.serverSec;
    foreign += cpu.foreignShare * run.seconds;
  }
  const load = summarise(latencies, seconds, errors);
  const result: EmbeddedScenarioResult = {
    id: scenario.id,
    title: scenario.title,
    ...load,
    serverCpuUs: load.requests > 0 ? (serverSec * 1e6) / load.requests : NaN,
    foreignCpu: seconds > 0 ? foreign / seconds : 0,
    rss: sampler?.stop(),
  };
  const rss = result.rss ? `, RSS ${(result.rss.beforeBytes / 2 ** 20).toFixed(0)} → ${(result.rss.peakBytes / 2 ** 20).toFixed(0)} MB` : '';
  log(`  ${scenario.id} service: ${result.rps.toFixed(0)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, errors ${errors}${rss}; server CPU ${result.serverCpuUs.toFixed(0)} µs/req; foreign CPU ${(result.foreignCpu * 100).toFixed(0)}%`);
  return result;
}

function renderEmbeddedReport(run: { startedAt: string; rows: number; options: BenchOptions; machine: Record<string, string>; scenarios: EmbeddedScenarioResult[] }): string {
  const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
  const rows = run.scenarios.map((s) => {
    const rss = s.rss ? `${mb(s.rss.beforeBytes)} → ${mb(s.rss.peakBytes)}` : '';
    return `| ${s.id} | ${s.title} | ${s.rps.toFixed(0)} | ${s.p50Ms.toFixed(2)} | ${s.p99Ms.toFixed(2)} | ${s.errors} | ${s.serverCpuUs.toFixed(0)} | ${(s.foreignCpu * 100).toFixed(0)}% | ${rss} |`;
  });
  return `# Embedded database bench

\`npm run bench -- --backend embedded\`, ${run.startedAt}: the service${run.options.serviceRoot ? ` built in ${run.options.serviceRoot}` : ''} on PGlite, ${run.rows.toLocaleString('en-US')}
rows seeded as in the PostgreSQL bench, ${run.options.connections} connections, ${run.options.durationSec} s per scenario in ${run.options.rounds} slices
after ${run.options.warmupSec} s of warm-up. No bare server nor pgbench on this backend (bench/embedded.ts says why).

Machine: ${Object.entries(run.machine).map(([k, v]) => `${k} ${v}`).join(', ')}.

| scenario | call | req/s | p50 (ms) | p99 (ms) | errors | server CPU µs/req | foreign CPU | RSS MB (start → peak) |
|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

The footprint (idle RSS, RSS after load, first start, restart) is in FOOTPRINT.md beside this (\`npm run bench:footprint\`).
`;
}

/** The embedded bench at each size: seed, start the service on the directory, run the scenarios, write the report. */
export async function runEmbeddedBench(options: BenchOptions, log: Log): Promise<void> {
  const chosen = SCENARIOS.filter((s) => options.scenarios.includes(s.id) && !UNSUPPORTED.has(s.id));
  const skipped = options.scenarios.filter((id) => UNSUPPORTED.has(id));
  if (skipped.length > 0) log(`not on the embedded backend: ${skipped.join(', ')} (it refills its worker over a second connection)`);
  const outDir = options.outDir;
  await mkdir(outDir, { recursive: true });
  for (const rows of options.sizes) {
    const dataDir = embeddedDataDir(options, rows);
    log(`\n== embedded, ${rows.toLocaleString('en-US')} rows in ${dataDir}${existsSync(dataDir) ? '' : ' (new)'} ==`);
    const tokens = await prepareEmbedded(dataDir, rows, log);
    const service = await startServiceOn({ dataDir }, { root: options.serviceRoot });
    const startedAt = new Date().toISOString();
    const scenarios: EmbeddedScenarioResult[] = [];
    try {
      for (const scenario of chosen) {
        log(`${scenario.id}: ${scenario.title}`);
        scenarios.push(await runEmbeddedScenario(scenario, service, tokens, options, log));
      }
    } finally {
      await service.stop();
    }
    const run = { startedAt, rows, options, machine: machineFacts(), scenarios };
    await writeFile(join(outDir, `results-${rows}.json`), JSON.stringify(run, null, 2));
    await writeFile(join(outDir, 'REPORT.md'), renderEmbeddedReport(run));
    log(`report: ${join(outDir, 'REPORT.md')}`);
  }
}
