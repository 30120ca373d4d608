/**
 * The password-login path, tree against tree: how many `username|password`
 * calls per second a server answers when every call logs in (a cached
 * credential, so the throttle's bookkeeping is what is measured, not scrypt),
 * and how many refusals per second it answers once the throttle refuses the
 * account. Each tree's server runs on a fresh database of its own, in turns.
 *
 *   npm run bench:logins -- --tree before=/path/to/old/dist/src/main.js --tree after=dist/src/main.js
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { openDataSource } from '../src/database/data-source.factory';
import { formatToken, TokenService } from '../src/token/token.service';
import { runHttpLoad, summarise, type LoadResult } from './load';
import { freePort } from './processes';
import { tokenLimitsFor } from './scenarios';
import { spawn, type ChildProcess } from 'node:child_process';

const ADMIN_URL = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const USERNAME = 'bench-login';
const PASSWORD = 'correct horse battery staple';

interface Tree {
  name: string;
  main: string;
}

interface Running {
  url: string;
  stop(): Promise<void>;
}

async function recreateDatabase(name: string): Promise<string> {
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function start(main: string, databaseUrl: string): Promise<Running> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [resolve(main)], {
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', SHUTDOWN_DRAIN_MS: '0' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${main} exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const stop = () =>
    new Promise<void>((done) => {
      if (child.exitCode !== null) return done();
      child.once('exit', () => done());
      child.kill('SIGTERM');
    });
  return { url, stop };
}

async function rpc(url: string, method: string, params: unknown): Promise<{ result?: unknown; error?: { message: string } }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  return (await res.json()) as { result?: unknown; error?: { message: string } };
}

/** A server of this tree on a fresh database, with one password account. */
async function serverWithAccount(tree: Tree): Promise<Running> {
  const databaseUrl = await recreateDatabase(`jsr_logins_${tree.name}`);
  // The first start migrates; the super token is then set directly, as the bench does for its roles.
  await (await start(tree.main, databaseUrl)).stop();
  const dataSource = await openDataSource({ database: { kind: 'postgres', url: databaseUrl }, poolSize: 1, statementTimeoutMs: 60_000 });
  const superToken = formatToken(await TokenService.on(dataSource).rollSuperToken());
  await dataSource.destroy();
  const server = await start(tree.main, databaseUrl);
  const created = await rpc(server.url, 'token_create', {
    father_token: superToken,
    token_creation: { username: USERNAME, password: PASSWORD, token_limit: tokenLimitsFor().named },
  });
  if (created.error) throw new Error(`token_create on ${tree.name}: ${created.error.message}`);
  return server;
}

const loginBody = (password: string) =>
  JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'js-result_query', params: { token: `${USERNAME}|${password}`, query: { condition: [{ limit: 1 }] } } });

async function measure(url: string, body: string, seconds: number, verify: (body: string) => boolean): Promise<LoadResult> {
  const run = await runHttpLoad({ url, body, connections: 16, durationSec: seconds, verify });
  return summarise(run.latenciesMs, run.seconds, run.errors);
}

async function benchTree(tree: Tree, seconds: number): Promise<{ success: LoadResult; refused: LoadResult }> {
  const server = await serverWithAccount(tree);
  try {
    // The first login pays scrypt; every later one is the cached credential plus the throttle.
    const first = await rpc(server.url, 'js-result_query', { token: `${USERNAME}|${PASSWORD}`, query: { condition: [{ limit: 1 }] } });
    if (first.error) throw new Error(`login on ${tree.name}: ${first.error.message}`);
    const success = await measure(server.url, loginBody(PASSWORD), seconds, (b) => b.includes('"result"'));
    // Wrong passwords until the throttle refuses the account; the load then measures refusals.
    for (let i = 0; i < 50; i++) {
      const reply = await rpc(server.url, 'js-result_query', { token: `${USERNAME}|wrong`, query: { condition: [{ limit: 1 }] } });
      if (reply.error?.message.includes('too many failed logins')) break;
    }
    const refused = await measure(server.url, loginBody('wrong'), seconds, (b) => b.includes('too many failed logins'));
    return { success, refused };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      tree: { type: 'string', multiple: true },
      duration: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '2' },
      out: { type: 'string', default: 'bench/results/logins' },
    },
  });
  const trees: Tree[] = (values.tree ?? ['current=dist/src/main.js']).map((spec) => {
    const [name, main] = spec.split('=');
    return { name, main };
  });
  const rows: string[] = [];
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const tree of trees) {
      const { success, refused } = await benchTree(tree, Number(values.duration));
      const line = `| ${round} | ${tree.name} | ${success.rps.toFixed(0)} (p50 ${success.p50Ms.toFixed(1)} ms, errors ${success.errors}) | ${refused.rps.toFixed(0)} (p50 ${refused.p50Ms.toFixed(1)} ms, errors ${refused.errors}) |`;
      console.log(line);
      rows.push(line);
    }
  }
  mkdirSync(values.out!, { recursive: true });
  const report = [
    '# Password logins per second',
    '',
    `16 connections, ${values.duration} s per measurement, trees in turns: ${trees.map((t) => `${t.name} = \`${t.main}\``).join(', ')}.`,
    '',
    '| round | tree | successful logins/s | throttled refusals/s |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
  writeFileSync(resolve(values.out!, 'REPORT.md'), report);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
