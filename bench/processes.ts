import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

export interface ServerProcess {
  name: string;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** A port the OS just handed out on loopback; free again once this returns. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
  });
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntilHealthy(url: string, child: ChildProcess, output: () => string, timeoutMs = 60_000, pollMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode}:\n${output()}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await delay(pollMs);
  }
  throw new Error(`server at ${url} not healthy after ${timeoutMs} ms:\n${output()}`);
}

/** Sends SIGTERM, and SIGKILL if the process is still there after a grace period. */
function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(killer);
      done();
    });
    child.kill('SIGTERM');
  });
}

/** The child's environment: this one's, with `env` over it (an undefined value removes the variable). */
function childEnv(env: NodeJS.ProcessEnv, port: number): NodeJS.ProcessEnv {
  const merged: NodeJS.ProcessEnv = { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' };
  for (const [key, value] of Object.entries(merged)) if (value === undefined) delete merged[key];
  return merged;
}

/** How a start is watched: `onSpawn` sees the process at once (before it answers), health is polled every `pollMs`. */
export interface StartWatch {
  onSpawn?(pid: number): void;
  pollMs?: number;
}

/** A Node script serving HTTP on PORT (and `/health`), started on a free port and waited for. */
export async function startNodeServer(name: string, script: string, env: NodeJS.ProcessEnv, watch: StartWatch = {}): Promise<ServerProcess> {
  const port = await freePort();
  // BENCH_SERVER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"): Node flags for the measured server only.
  const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter((arg) => arg !== '') ?? [];
  const child = spawn(process.execPath, [...nodeArgs, script], {
    env: childEnv(env, port),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid !== undefined) watch.onSpawn?.(child.pid);
  let output = '';
  const keep = (chunk: Buffer) => {
    // Only the tail is kept: it is shown if the server fails.
    output = (output + chunk.toString()).slice(-8_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilHealthy(url, child, () => output, 60_000, watch.pollMs);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return { name, url, pid: child.pid!, stop: () => stopChild(child) };
}

export interface ServerSettings {
  databaseUrl: string;
  poolSize: number;
}

/**
 * The real service, built by `npm run build`, as an operator would run it:
 * this checkout's, or the build in `root` (an older tree measured beside this one, with the same harness).
 */
export function startService(settings: ServerSettings, env: Record<string, string> = {}, root?: string): Promise<ServerProcess> {
  return startServiceOn({ databaseUrl: settings.databaseUrl }, { root, env: { DB_POOL_SIZE: String(settings.poolSize), ...env } });
}

/** Where a service runs its database: a PostgreSQL server, or the embedded database in a directory. */
export type ServiceDatabase = { databaseUrl: string } | { dataDir: string };

/**
 * The service of the checkout at `root` (this one by default; the footprint
 * report measures an older build beside it), on either backend.
 */
export function startServiceOn(
  database: ServiceDatabase,
  options: { root?: string; env?: Record<string, string>; watch?: StartWatch } = {},
): Promise<ServerProcess> {
  const backend = 'dataDir' in database ? { DATABASE_URL: undefined, DATA_DIR: database.dataDir } : { DATABASE_URL: database.databaseUrl };
  const main = options.root ? resolve(options.root, 'dist/src/main.js') : resolve(__dirname, '../src/main.js');
  return startNodeServer('service', main, { ...backend, LOG_LEVEL: 'warn', SHUTDOWN_DRAIN_MS: '0', ...options.env }, options.watch);
}

export function startBare(settings: ServerSettings): Promise<ServerProcess> {
  return startNodeServer('bare', resolve(__dirname, 'bare-server.js'), {
    DATABASE_URL: settings.databaseUrl,
    DB_POOL_SIZE: String(settings.poolSize),
  });
}

/** Resident set size of a process in bytes, from /proc (Linux). */
export function residentBytes(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface RssSample {
  beforeBytes: number;
  peakBytes: number;
}

export interface RssSampler {
  stop(): RssSample;
}

/** Samples VmRSS every `everyMs`; the first sample is the baseline the growth is measured from. */
export function sampleRss(pid: number, everyMs = 100): RssSampler {
  const before = residentBytes(pid) ?? 0;
  let peak = before;
  const timer = setInterval(() => {
    const now = residentBytes(pid);
    if (now !== undefined && now > peak) peak = now;
  }, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      const last = residentBytes(pid);
      if (last !== undefined && last > peak) peak = last;
      return { beforeBytes: before, peakBytes: peak };
    },
  };
}
