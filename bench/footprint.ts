/**
 * `npm run bench:footprint`: what the service costs to hold and to start, on
 * each backend: the first start on a new database, a restart on a seeded one,
 * idle RSS after each, and RSS during and after load (S1, S3 and S7 in turn).
 * `--root DIR` measures another checkout's build (`npm run build` there), so a
 * change can be set beside what came before; each run is kept as
 * footprint-<label>.json and FOOTPRINT.md shows every label in the directory.
 */
import 'reflect-metadata';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { machineFacts, prepareDatabase } from './bench';
import { createTokens, dropDatabase, ensureDatabase, type Log, seedIfNeeded } from './database';
import { embeddedDataDir, prepareEmbedded } from './embedded';
import { runHttpLoad } from './load';
import { DEFAULT_DATABASE_URL, EMBEDDED_DEFAULT_ROWS, flagReader } from './options';
import { residentBytes, type ServerProcess, type ServiceDatabase, startServiceOn } from './processes';
import { type BenchTokens, replyCheckFor, requestBody, SCENARIOS } from './scenarios';

const log: Log = (line) => process.stdout.write(`${line}\n`);

type Backend = 'embedded' | 'postgres';

interface Options {
  backends: Backend[];
  rows: number;
  loadSec: number;
  settleSec: number;
  connections: number;
  /** Starts of each kind; the fastest is reported. */
  repeat: number;
  root?: string;
  label: string;
  outDir: string;
  databaseUrl: string;
  dataDir?: string;
}

const USAGE = `usage: npm run bench:footprint -- [--backends embedded,postgres] [--rows ${EMBEDDED_DEFAULT_ROWS}] [--load 10] [--settle 5]
       [--connections 16] [--repeat 3] [--root DIR] [--label current] [--out bench/results/embedded] [--data-dir DIR]`;

/**
 * The seeded PostgreSQL database of this report: on the server DATABASE_URL
 * names, a database of its own (jsr_footprint), so that seeding it at this
 * size never reseeds the bench's.
 */
function footprintDatabase(serverUrl: string): string {
  const url = new URL(serverUrl);
  url.pathname = '/jsr_footprint';
  return url.toString();
}

function parseArgs(argv: string[]): Options {
  const value = flagReader(argv);
  const number = (flag: string, fallback: number) => {
    const parsed = Number(value(flag, String(fallback)));
    if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`${flag}: expected a number\n${USAGE}`);
    return parsed;
  };
  const backends = value('--backends', 'embedded,postgres').split(',') as Backend[];
  if (backends.some((b) => b !== 'embedded' && b !== 'postgres')) throw new Error(`--backends: embedded and/or postgres\n${USAGE}`);
  return {
    backends,
    rows: number('--rows', EMBEDDED_DEFAULT_ROWS),
    loadSec: number('--load', 10),
    settleSec: number('--settle', 5),
    connections: number('--connections', 16),
    repeat: Math.max(1, Math.round(number('--repeat', 3))),
    root: argv.includes('--root') ? value('--root', '') : undefined,
    label: value('--label', 'current'),
    outDir: value('--out', 'bench/results/embedded'),
    databaseUrl: footprintDatabase(process.env.DATABASE_URL?.trim() || DEFAULT_DATABASE_URL),
    dataDir: argv.includes('--data-dir') ? value('--data-dir', '') : undefined,
  };
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (bytes: number | undefined) => (bytes === undefined ? NaN : Math.round(bytes / 2 ** 20));

interface StartFigures {
  /** From spawning the process to its first healthy answer. */
  ms: number;
  /** Highest RSS from spawn until it answered, and until it settled. */
  peakMb: number;
  /** RSS `settleSec` after it answered, nothing asked of it. */
  idleMb: number;
  /** With --repeat: every start's time; the figures above are the fastest start's. */
  allMs?: number[];
}

/** Starts the service, timing it and sampling its RSS from the moment it exists. */
async function timedStart(database: ServiceDatabase, options: Options): Promise<[ServerProcess, StartFigures]> {
  let pid: number | undefined;
  let peak = 0;
  const sampler = setInterval(() => {
    const rss = pid === undefined ? undefined : residentBytes(pid);
    if (rss !== undefined && rss > peak) peak = rss;
  }, 50);
  const started = process.hrtime.bigint();
  try {
    const server = await startServiceOn(database, { root: options.root, watch: { onSpawn: (p) => (pid = p), pollMs: 20 } });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    await delay(options.settleSec * 1000);
    return [server, { ms, peakMb: mb(peak), idleMb: mb(residentBytes(server.pid)) }];
  } finally {
    clearInterval(sampler);
  }
}

interface LoadFigures {
  /** Highest RSS while S1, S3 and S7 ran, and until it settled. */
  peakMb: number;
  /** RSS `settleSec` after the load stopped. */
  afterMb: number;
  /** Per scenario: req/s and errors (one short run each: for the memory, not a throughput figure). */
  scenarios: { id: string; rps: number; errors: number }[];
}

async function underLoad(server: ServerProcess, tokens: BenchTokens, options: Options): Promise<LoadFigures> {
  let peak = residentBytes(server.pid) ?? 0;
  const sampler = setInterval(() => (peak = Math.max(peak, residentBytes(server.pid) ?? 0)), 100);
  const scenarios = [];
  try {
    for (const scenario of SCENARIOS.filter((s) => ['S1', 'S3', 'S7'].includes(s.id))) {
      const run = await runHttpLoad({
        url: server.url,
        body: requestBody(scenario, tokens),
        connections: options.connections,
        durationSec: Math.max(1, Math.round(options.loadSec / 3)),
        verify: replyCheckFor(scenario),
      });
      scenarios.push({ id: scenario.id, rps: run.latenciesMs.length / run.seconds, errors: run.errors });
    }
    // Replies still being written when the load stops count too.
    await delay(options.settleSec * 1000);
  } finally {
    clearInterval(sampler);
  }
  return { peakMb: mb(peak), afterMb: mb(residentBytes(server.pid)), scenarios };
}

interface BackendFigures {
  firstStart: StartFigures;
  restart: StartFigures;
  load: LoadFigures;
}

/** A new database of the backend for the first start, and how to remove it. */
async function newDatabase(backend: Backend, options: Options): Promise<[ServiceDatabase, () => Promise<void>]> {
  if (backend === 'embedded') {
    const folder = mkdtempSync(join(tmpdir(), 'jsr-footprint-'));
    return [{ dataDir: join(folder, 'data') }, async () => rmSync(folder, { recursive: true, force: true })];
  }
  const url = new URL(options.databaseUrl);
  url.pathname = `/jsr_footprint_${process.pid}`;
  await ensureDatabase(url.toString());
  return [{ databaseUrl: url.toString() }, () => dropDatabase(url.toString())];
}

/** The seeded database the restart and the load use (the embedded bench's directory, or jsr_footprint), and its tokens. */
async function seededDatabase(backend: Backend, options: Options): Promise<[ServiceDatabase, BenchTokens]> {
  if (backend === 'embedded') {
    const dataDir = embeddedDataDir(options, options.rows);
    return [{ dataDir }, await prepareEmbedded(dataDir, options.rows, log)];
  }
  await prepareDatabase(options.databaseUrl);
  await seedIfNeeded(options.databaseUrl, options.rows, log);
  return [{ databaseUrl: options.databaseUrl }, await createTokens(options.databaseUrl)];
}

/** Of several starts, the fastest: on a shared machine the others measure the machine more than the service. */
const fastest = (starts: StartFigures[]): StartFigures => ({
  ...starts.reduce((best, start) => (start.ms < best.ms ? start : best)),
  allMs: starts.map((start) => Math.round(start.ms)),
});

async function firstStarts(backend: Backend, options: Options): Promise<StartFigures> {
  const starts: StartFigures[] = [];
  for (let i = 0; i < options.repeat; i++) {
    const [fresh, remove] = await newDatabase(backend, options);
    try {
      const [server, figures] = await timedStart(fresh, options);
      await server.stop();
      starts.push(figures);
    } finally {
      await remove();
    }
  }
  return fastest(starts);
}

async function measure(backend: Backend, options: Options): Promise<BackendFigures> {
  const firstStart = await firstStarts(backend, options);
  log(`${backend}: first start ${firstStart.ms.toFixed(0)} ms (of ${firstStart.allMs?.join(', ')}; peak ${firstStart.peakMb} MB), idle ${firstStart.idleMb} MB`);

  const [seeded, tokens] = await seededDatabase(backend, options);
  // One start first, so the restart finds the data files in the operating system's cache, as a restart does.
  const [warm] = await timedStart(seeded, { ...options, settleSec: 0 });
  await warm.stop();
  const restarts: StartFigures[] = [];
  for (let i = 1; i < options.repeat; i++) {
    const [server, figures] = await timedStart(seeded, options);
    await server.stop();
    restarts.push(figures);
  }
  // The last start stays up for the load.
  const [server, last] = await timedStart(seeded, options);
  const restart = fastest([...restarts, last]);
  try {
    log(`${backend}: restart ${restart.ms.toFixed(0)} ms (of ${restart.allMs?.join(', ')}; peak ${restart.peakMb} MB), idle ${restart.idleMb} MB`);
    const load = await underLoad(server, tokens, options);
    log(`${backend}: under load up to ${load.peakMb} MB, ${load.afterMb} MB ${options.settleSec} s after it`);
    return { firstStart, restart, load };
  } finally {
    await server.stop();
  }
}

interface FootprintRun {
  label: string;
  root: string;
  at: string;
  rows: number;
  connections: number;
  machine: Record<string, string>;
  /** The machine's 1-minute load average when the run started: start times mean little on a busy one. */
  loadAverage?: number;
  backends: Partial<Record<Backend, BackendFigures>>;
}

function renderFootprint(runs: FootprintRun[]): string {
  const lines = runs.flatMap((run) =>
    (Object.entries(run.backends) as [Backend, BackendFigures][]).map(
      ([backend, f]) =>
        `| ${run.label} | ${backend} | ${f.firstStart.ms.toFixed(0)} | ${f.firstStart.peakMb} | ${f.firstStart.idleMb} | ${f.restart.ms.toFixed(0)} | ${f.restart.idleMb} | ${f.load.peakMb} | ${f.load.afterMb} |`,
    ),
  );
  return `# Footprint

\`npm run bench:footprint\` (bench/footprint.ts). First start: a new, empty database (embedded: a new DATA_DIR;
PostgreSQL: a new database), from spawning the process to its first healthy answer, the fastest of several
starts (all are in the JSON); idle = RSS some seconds later with nothing asked. Restart: a second start on the seeded database (${runs[0]?.rows.toLocaleString('en-US') ?? ''} rows),
after a first one, so its files are in the operating system's cache (PostgreSQL: the database jsr_footprint). Load: S1, S3 and S7 in turn (a few seconds
each, ${runs[0]?.connections ?? ''} connections); after = RSS once it settled. Times on a shared machine vary; memory much less.

| build | backend | first start (ms) | its peak RSS (MB) | idle after it (MB) | restart (ms) | idle after restart (MB) | peak under load (MB) | after load (MB) |
|---|---|---|---|---|---|---|---|---|
${lines.join('\n')}

${runs.map((r) => `- **${r.label}**: ${r.root}, ${r.at}${r.loadAverage === undefined ? '' : `, load average ${r.loadAverage.toFixed(1)} at the start`}; ${Object.entries(r.machine).map(([k, v]) => `${k} ${v}`).join(', ')}`).join('\n')}
`;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  await mkdir(options.outDir, { recursive: true });
  const run: FootprintRun = {
    label: options.label,
    root: options.root ?? 'this checkout',
    at: new Date().toISOString(),
    rows: options.rows,
    connections: options.connections,
    machine: machineFacts(),
    loadAverage: loadavg()[0],
    backends: {},
  };
  for (const backend of options.backends) run.backends[backend] = await measure(backend, options);
  await writeFile(join(options.outDir, `footprint-${options.label}.json`), JSON.stringify(run, null, 2));
  const runs = readdirSync(options.outDir)
    .filter((name) => /^footprint-.+\.json$/.test(name))
    .map((name) => JSON.parse(readFileSync(join(options.outDir, name), 'utf8')) as FootprintRun)
    .sort((a, b) => a.at.localeCompare(b.at));
  await writeFile(join(options.outDir, 'FOOTPRINT.md'), renderFootprint(runs));
  log(`report: ${join(options.outDir, 'FOOTPRINT.md')}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
