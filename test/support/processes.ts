import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { ServerProcess as ChaosTarget } from '../../bench/processes';

export const ROOT = join(__dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'src', 'main.js');
/** The `bin` entry (`js-result-service`): the compiled CLI, as an installed package runs it. */
export const CLI = join(ROOT, 'bin', 'js-result-service.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The last line of stdout: where the CLI puts its result. */
  lastLine: string;
}

/** The environment without any database setting of the test run itself. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  // No drain period: nothing balances load in front of a test's server, and every stop would wait for it.
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', SHUTDOWN_DRAIN_MS: '0' };
  delete env.DATABASE_URL;
  delete env.DATA_DIR;
  return { ...env, ...extra };
}

/** Runs the CLI; `input`, when given, is its standard input (a pipe, as a script would give it). */
export function runCli(args: string[], env: Record<string, string>, input?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { cwd: ROOT, env: cleanEnv(env), timeout: 60_000 }, (err, stdout, stderr) => {
      const lines = stdout.trimEnd().split('\n');
      resolve({
        code: err ? ((err as { code?: number }).code ?? 1) : 0,
        stdout,
        stderr,
        lastLine: lines[lines.length - 1] ?? '',
      });
    });
    child.stdin!.end(input ?? '');
  });
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface ServerProcess {
  port: number;
  /** The server's process id, to read its memory use from /proc. */
  pid: number;
  output: () => string;
  stop(): Promise<void>;
  /** How the process ended: its exit code, or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Ends the process with SIGKILL, as a crash would: no shutdown hook runs. */
  kill(): Promise<void>;
}

/** Starts `node dist/src/main.js` (what `npm start` runs), or `command`, and waits until it answers. */
export async function startServer(env: Record<string, string>, command: string[] = [MAIN]): Promise<ServerProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, command, {
    cwd: ROOT,
    env: cleanEnv({ ...env, PORT: String(port), HOST: '127.0.0.1' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${output}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not become healthy:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    port,
    pid: child.pid!,
    output: () => output,
    exited,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export async function rpcOver(port: number, method: string, params: unknown): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${port}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }),
  });
  return res.json();
}

/** The built server (`npm start`) on `databaseUrl`, in the shape the chaos scenarios drive. */
export async function startChaosTarget(databaseUrl: string): Promise<ChaosTarget> {
  const server = await startServer({ DATABASE_URL: databaseUrl, DB_POOL_SIZE: '4' });
  return { name: 'service', url: `http://127.0.0.1:${server.port}`, pid: server.pid, stop: server.stop };
}
