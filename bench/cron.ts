/**
 * `npm run bench:cron`: scheduled runs at scale (issue 21). `--jobs` jobs
 * (1,000) firing every second across `--instances` servers (2) on one
 * PostgreSQL database for `--seconds` (60): firings per second, duplicates
 * (must be 0), missed due times (must be 0), lag from the due time to the
 * run's js_result row (p50, p99), and worker runs finished per second.
 * Writes `--out` (bench/results/cron)/REPORT.md and results.json.
 * DATABASE_URL, else postgres://postgres@127.0.0.1:5432/jsr_cron_bench (created if missing).
 */
import 'reflect-metadata';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { analyseFirings, createEverySecondJobs, disableJobs, type FiringAnalysis } from './cron-firings';
import { createTokens } from './database';
import { startService } from './processes';
import { flagReader } from './options';

const PREFIX = 'cron_bench_';
const WARM_UP_MS = 3_000;
/** Firings of the window's last due times are still being written this long after it. */
const SETTLE_MS = 2_000;

interface Options {
  jobs: number;
  instances: number;
  seconds: number;
  outDir: string;
  databaseUrl: string;
}

function parseArgs(argv: string[]): Options {
  const value = flagReader(argv);
  return {
    jobs: Number(value('--jobs', '1000')),
    instances: Number(value('--instances', '2')),
    seconds: Number(value('--seconds', '60')),
    outDir: value('--out', 'bench/results/cron'),
    databaseUrl: process.env.DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/jsr_cron_bench',
  };
}

const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function ensureDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

function report(options: Options, result: FiringAnalysis): string {
  const rows: [string, string | number][] = [
    ['jobs (every second)', result.jobs],
    ['instances', options.instances],
    ['measured window', `${result.windowSeconds} s`],
    ['firings per second', result.firingsPerSecond],
    ['duplicates (must be 0)', result.duplicates],
    ['missed due times (must be 0)', result.missed],
    ['longest gap between two firings of a job', `${result.maxGapMs} ms`],
    ['firings recorded as failures', result.failedFirings],
    ['successful firings with no js_result row', result.unlinked],
    ['cron runs no firing names', result.orphanRuns],
    ['lag due time → run row, p50', `${result.lagP50Ms} ms`],
    ['lag p99', `${result.lagP99Ms} ms`],
    ['lag max', `${result.lagMaxMs} ms`],
    ['worker runs finished per second', result.workerRunsPerSecond],
  ];
  return [
    '# Cron firing benchmark',
    '',
    `${new Date().toISOString()}; ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}.`,
    `Command: \`npm run bench:cron -- --jobs ${options.jobs} --instances ${options.instances} --seconds ${options.seconds}\` on PostgreSQL.`,
    '',
    '| measure | value |',
    '|---|---|',
    ...rows.map(([name, value]) => `| ${name} | ${value} |`),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  await ensureDatabase(options.databaseUrl);
  const tokens = await createTokens(options.databaseUrl);
  log(`starting ${options.instances} instances`);
  const servers = [];
  for (let i = 0; i < options.instances; i++) servers.push(await startService({ databaseUrl: options.databaseUrl, poolSize: 10 }));
  let result: FiringAnalysis;
  try {
    log(`creating ${options.jobs} every-second jobs`);
    await createEverySecondJobs(options.databaseUrl, servers[0].url, tokens.super, PREFIX, options.jobs);
    await sleep(WARM_UP_MS);
    const from = Date.now();
    log(`measuring for ${options.seconds} s`);
    await sleep(options.seconds * 1000);
    const to = Date.now();
    await sleep(SETTLE_MS);
    await disableJobs(options.databaseUrl, PREFIX);
    result = await analyseFirings(options.databaseUrl, PREFIX, from, to);
  } finally {
    for (const server of servers) await server.stop();
  }
  await mkdir(options.outDir, { recursive: true });
  const text = report(options, result);
  await writeFile(join(options.outDir, 'REPORT.md'), text);
  await writeFile(join(options.outDir, 'results.json'), `${JSON.stringify({ options: { ...options, databaseUrl: undefined }, result }, null, 2)}\n`);
  log(text);
  process.exitCode = result.duplicates === 0 && result.missed === 0 ? 0 : 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
