/**
 * `npm run bench:runs`: trivial worker runs per second through the real service (issue 21,
 * "Worker runs fast enough to keep up"), and whether throughput and RSS hold over a long series.
 *
 * The built service runs as its own process on PostgreSQL. Each run is a js-worker_run of a
 * trivial onCall worker and a js-result_wait for it; `--concurrency` (400) runs are in flight at
 * once. After a warm-up, `--runs` (100,000) are timed; the first and last `--window` runs give the
 * throughput at the start and after the series, beside the server's RSS (worker threads included)
 * after each window and its median and peak over each window (sampled every 250 ms), and the server's CPU time per run (all its threads; unlike runs/s it hardly
 * depends on what else the machine is doing), beside the CPU of the database's backends and of this
 * load generator per run: on two cores the three share the same CPUs. `--client http` (default) sends
 * the calls over keep-alive node:http connections; `--client fetch` through global fetch (undici),
 * which costs the load generator several times more CPU per call. Prints a JSON line and writes
 * `--out`/results.json. DATABASE_URL, else postgres://postgres@127.0.0.1:5432/jsr_runs_bench (created if missing).
 */
import 'reflect-metadata';
import { mkdir, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { cpus } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTokens, ensureDatabase, withClient } from './database';
import { flagReader } from './options';
import { residentBytes, startService, type ServerProcess } from './processes';

interface Options {
  runs: number;
  window: number;
  warmup: number;
  concurrency: number;
  outDir: string;
  databaseUrl: string;
  /** Another checkout's build to measure (its dist/src/main.js), as in bench/run.ts. */
  serviceRoot?: string;
  client: ClientKind;
}

type ClientKind = 'http' | 'fetch';

function parseArgs(argv: string[]): Options {
  const value = flagReader(argv);
  const runs = Number(value('--runs', '100000'));
  return {
    runs,
    window: Math.min(runs, Number(value('--window', '5000'))),
    warmup: Number(value('--warmup', '5000')),
    concurrency: Number(value('--concurrency', '400')),
    outDir: value('--out', 'bench/results/runs'),
    databaseUrl: process.env.DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/jsr_runs_bench',
    serviceRoot: value('--service-root', '') || undefined,
    client: clientKind(value('--client', 'http')),
  };
}

function clientKind(raw: string): ClientKind {
  if (raw !== 'http' && raw !== 'fetch') throw new Error(`--client must be http or fetch, not ${raw}`);
  return raw;
}

const log = (line: string) => process.stdout.write(`${line}\n`);
const TRIVIAL_WORKER = 'export default { onCall: (params) => params }';

interface RpcAnswer {
  result?: any;
  error?: { code: number; message: string };
}

type Rpc = (method: string, params: unknown) => Promise<any>;

function rpcClient(kind: ClientKind, url: string, concurrency: number): Rpc {
  const post = kind === 'fetch' ? fetchPost(url) : httpPost(url, concurrency);
  return async (method, params) => {
    const answer = JSON.parse(await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }))) as RpcAnswer;
    if (answer.error !== undefined) throw new Error(`${method}: ${answer.error.code} ${answer.error.message}`);
    return answer.result;
  };
}

function fetchPost(url: string): (body: string) => Promise<string> {
  return async (body) => {
    const res = await fetch(`${url}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return res.text();
  };
}

/** Keep-alive connections, one per run in flight, reused call after call. */
function httpPost(url: string, concurrency: number): (body: string) => Promise<string> {
  const { hostname, port } = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  return (body) =>
    new Promise((resolve, reject) => {
      const req = request(
        { agent, hostname, port, path: '/', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (part: Buffer) => parts.push(part));
          res.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}

/** One run as a client sees it: started, then waited for until its row is finished. */
async function runOnce(rpc: Rpc, token: string, worker: string, n: number): Promise<void> {
  const { id } = (await rpc('js-worker_run', { token, js_script_name: worker, params: n })) as { id: number };
  const row = (await rpc('js-result_wait', { token, id, timeout_ms: 60_000 })) as { finish_time?: unknown; error_message?: unknown } | null;
  if (row === null || row.finish_time === null || row.error_message !== null) throw new Error(`run ${id} did not succeed: ${JSON.stringify(row)}`);
}

/** `count` runs, `concurrency` in flight; calls `onDone` with the number finished so far. */
async function runMany(rpc: Rpc, token: string, worker: string, count: number, concurrency: number, onDone?: (done: number) => void): Promise<number> {
  let started = 0;
  let done = 0;
  const began = performance.now();
  const lane = async () => {
    while (started < count) {
      const n = started++;
      await runOnce(rpc, token, worker, n);
      onDone?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return count / ((performance.now() - began) / 1000);
}

interface SeriesResult {
  runs: number;
  runsPerSecond: number;
  firstWindowRunsPerSecond: number;
  lastWindowRunsPerSecond: number;
  rssStartBytes: number;
  rssEndBytes: number;
  /** Server CPU (user + system, every thread) per measured run, in ms. */
  serverCpuMsPerRun: number;
  /** CPU of the database's backends (the service's connections) per measured run, in ms. */
  databaseCpuMsPerRun: number;
  /** This load generator's CPU per measured run, in ms. */
  clientCpuMsPerRun: number;
  /** RSS after each window. */
  rssByWindowBytes: number[];
  /**
   * RSS sampled every RSS_SAMPLE_MS through each window: its median and its highest. Under load the
   * main thread's heap swings by a hundred MiB between major collections, so one reading per window
   * says where in that swing it was taken; a leak moves the median and the peak window after window.
   */
  rssMedianByWindowBytes: number[];
  rssPeakByWindowBytes: number[];
  /**
   * CPU per run (ms) of the server and of PostgreSQL's backends in each window: what a run costs,
   * which a slower machine barely moves, unlike runs/s (the host's other tenants do).
   */
  serverCpuMsPerRunByWindow: number[];
  databaseCpuMsPerRunByWindow: number[];
  /** Read and write system calls per measured run (every thread): loopback writes cost the writer the receiver's TCP work too. */
  serverSyscallsPerRun: SyscallCounts;
  databaseSyscallsPerRun: SyscallCounts;
}

interface SyscallCounts {
  reads: number;
  writes: number;
}

const CLOCK_TICKS_PER_SECOND = 100;

/** User + system CPU time of a process and all its threads, in ms, from /proc (Linux). */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of stat; fields[0] here is field 3.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** The server processes of the database's connections (PostgreSQL on this machine), but this one's. */
async function backendPids(databaseUrl: string): Promise<number[]> {
  return withClient(databaseUrl, async (client) => {
    const found = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    return found.rows.map((row) => row.pid);
  });
}

/** The read and write system calls a process (all its threads) has made, from /proc/<pid>/io (Linux). */
function syscalls(pid: number): SyscallCounts {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1] ?? Number.NaN);
    return { reads: field('syscr'), writes: field('syscw') };
  } catch {
    return { reads: Number.NaN, writes: Number.NaN };
  }
}

const sumSyscalls = (pids: readonly number[]): SyscallCounts =>
  pids.map(syscalls).reduce((sum, one) => ({ reads: sum.reads + (one.reads || 0), writes: sum.writes + (one.writes || 0) }), { reads: 0, writes: 0 });

const perRun = (end: SyscallCounts, start: SyscallCounts, runs: number): SyscallCounts => ({
  reads: (end.reads - start.reads) / runs,
  writes: (end.writes - start.writes) / runs,
});

const sumCpuMs = (pids: readonly number[]) => pids.reduce((sum, pid) => sum + (cpuMs(pid) || 0), 0);

const clientCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

async function measure(options: Options, token: string): Promise<SeriesResult> {
  const server: ServerProcess = await startService({ databaseUrl: options.databaseUrl, poolSize: 10 }, {}, options.serviceRoot);
  try {
    const rpc = rpcClient(options.client, server.url, options.concurrency);
    const worker = `runs_bench_${Date.now()}`;
    await rpc('js-worker_create', { token, name: worker, js_script_base64: Buffer.from(TRIVIAL_WORKER).toString('base64') });
    await runMany(rpc, token, worker, options.warmup, options.concurrency);
    const { runs } = options;
    // After the warm-up the pool's connections are all open; others this database serves count too.
    const backends = await backendPids(options.databaseUrl);
    const rssStartBytes = residentBytes(server.pid) ?? 0;
    const cpuStart = cpuMs(server.pid);
    const databaseCpuStart = sumCpuMs(backends);
    const clientCpuStart = clientCpuMs();
    const serverSyscallsStart = syscalls(server.pid);
    const databaseSyscallsStart = sumSyscalls(backends);
    const rssByWindowBytes: number[] = [];
    const rssMedianByWindowBytes: number[] = [];
    const rssPeakByWindowBytes: number[] = [];
    let windowSamples: number[] = [];
    const serverCpuMsPerRunByWindow: number[] = [];
    const databaseCpuMsPerRunByWindow: number[] = [];
    let windowCpu = { server: cpuStart, database: databaseCpuStart };
    const sampler = setInterval(() => windowSamples.push(residentBytes(server.pid) ?? 0), RSS_SAMPLE_MS).unref();
    let windowStartedAt = performance.now();
    let firstWindow = 0;
    let lastWindow = 0;
    const runsPerSecond = await runMany(rpc, token, worker, runs, options.concurrency, (done) => {
      if (done % options.window !== 0 && done !== runs) return;
      const now = performance.now();
      const rate = (done % options.window || options.window) / ((now - windowStartedAt) / 1000);
      windowStartedAt = now;
      if (firstWindow === 0) firstWindow = rate;
      lastWindow = rate;
      rssByWindowBytes.push(residentBytes(server.pid) ?? 0);
      if (windowSamples.length > 0) {
        rssMedianByWindowBytes.push(median(windowSamples));
        rssPeakByWindowBytes.push(Math.max(...windowSamples));
      }
      windowSamples = [];
      const cpuNow = { server: cpuMs(server.pid), database: sumCpuMs(backends) };
      const windowRuns = done % options.window || options.window;
      serverCpuMsPerRunByWindow.push((cpuNow.server - windowCpu.server) / windowRuns);
      databaseCpuMsPerRunByWindow.push((cpuNow.database - windowCpu.database) / windowRuns);
      windowCpu = cpuNow;
      log(
        `  ${done}/${runs} runs, ${rate.toFixed(0)} runs/s, RSS ${mib(residentBytes(server.pid))}` +
          ` (window median ${mib(rssMedianByWindowBytes.at(-1))}, peak ${mib(rssPeakByWindowBytes.at(-1))}),` +
          ` CPU a run: server ${serverCpuMsPerRunByWindow.at(-1)!.toFixed(2)} ms, database ${databaseCpuMsPerRunByWindow.at(-1)!.toFixed(2)} ms`,
      );
    });
    clearInterval(sampler);
    const serverCpuMsPerRun = (cpuMs(server.pid) - cpuStart) / runs;
    const databaseCpuMsPerRun = (sumCpuMs(backends) - databaseCpuStart) / runs;
    const clientCpuMsPerRun = (clientCpuMs() - clientCpuStart) / runs;
    const serverSyscallsPerRun = perRun(syscalls(server.pid), serverSyscallsStart, runs);
    const databaseSyscallsPerRun = perRun(sumSyscalls(backends), databaseSyscallsStart, runs);
    log(
      `  CPU a run: server ${serverCpuMsPerRun.toFixed(2)} ms, database ${databaseCpuMsPerRun.toFixed(2)} ms, ` +
        `load generator (${options.client}) ${clientCpuMsPerRun.toFixed(2)} ms`,
    );
    log(
      `  system calls a run (reads/writes): server ${serverSyscallsPerRun.reads.toFixed(2)}/${serverSyscallsPerRun.writes.toFixed(2)}, ` +
        `database ${databaseSyscallsPerRun.reads.toFixed(2)}/${databaseSyscallsPerRun.writes.toFixed(2)}`,
    );
    return {
      runs,
      runsPerSecond,
      firstWindowRunsPerSecond: firstWindow,
      lastWindowRunsPerSecond: lastWindow,
      rssStartBytes,
      rssEndBytes: residentBytes(server.pid) ?? 0,
      serverCpuMsPerRun,
      databaseCpuMsPerRun,
      clientCpuMsPerRun,
      rssByWindowBytes,
      rssMedianByWindowBytes,
      rssPeakByWindowBytes,
      serverCpuMsPerRunByWindow,
      databaseCpuMsPerRunByWindow,
      serverSyscallsPerRun,
      databaseSyscallsPerRun,
    };
  } finally {
    await server.stop();
  }
}

const RSS_SAMPLE_MS = 250;

/**
 * Every series starts from vacuumed run tables, whatever earlier series left: each run inserts and
 * deletes a js_worker_active_run row and updates its js_result row, and where autovacuum is off (as
 * on the machine these reports come from) the dead rows of earlier series would slow this one. The
 * series' own dead rows stay. Answers the server's autovacuum setting, for the report.
 */
async function vacuumRunTables(databaseUrl: string): Promise<string> {
  return withClient(databaseUrl, async (client) => {
    const present = await client.query<{ name: string }>(
      "SELECT relname AS name FROM pg_class WHERE relname IN ('js_result', 'js_worker_active_run', 'js_result_console') AND relkind = 'r'",
    );
    for (const { name } of present.rows) await client.query(`VACUUM ANALYZE ${name}`);
    const setting = await client.query<{ autovacuum: string }>('SHOW autovacuum');
    return setting.rows[0].autovacuum;
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const lastOverFirst = (values: readonly number[]): number | null => (values.length > 0 && values[0] > 0 ? values[values.length - 1] / values[0] : null);

const mib = (bytes: number | undefined) => (bytes === undefined ? '?' : `${(bytes / 2 ** 20).toFixed(1)} MiB`);

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  await ensureDatabase(options.databaseUrl);
  const autovacuum = await vacuumRunTables(options.databaseUrl);
  const tokens = await createTokens(options.databaseUrl);
  log(`runs bench: ${options.runs} runs (window ${options.window}), ${options.concurrency} in flight, ${options.client} client, ${cpus().length} CPUs, autovacuum ${autovacuum}`);
  const series = await measure(options, tokens.super);
  const summary = {
    date: new Date().toISOString(),
    options: { ...options, databaseUrl: undefined },
    autovacuum,
    series,
    throughputAfterRunsRatio: series.lastWindowRunsPerSecond / series.firstWindowRunsPerSecond,
    // From the end of the first window: by then the heaps have grown to their working size.
    rssAfterRunsRatio: series.rssByWindowBytes.length > 0 && series.rssByWindowBytes[0] > 0 ? series.rssEndBytes / series.rssByWindowBytes[0] : null,
    // The last window's median and peak RSS against the first window's.
    rssMedianAfterRunsRatio: lastOverFirst(series.rssMedianByWindowBytes),
    rssPeakAfterRunsRatio: lastOverFirst(series.rssPeakByWindowBytes),
    serverCpuAfterRunsRatio: lastOverFirst(series.serverCpuMsPerRunByWindow),
    databaseCpuAfterRunsRatio: lastOverFirst(series.databaseCpuMsPerRunByWindow),
  };
  await mkdir(options.outDir, { recursive: true });
  await writeFile(join(options.outDir, 'results.json'), `${JSON.stringify(summary, null, 2)}\n`);
  log(JSON.stringify(summary));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
