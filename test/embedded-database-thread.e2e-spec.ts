import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import type { PgliteThread } from '../src/database/pglite.thread';
import { JsResultWaitService } from '../src/result-events/js-result-wait.service';
import { T0 } from './support/fixtures';
import { call, queryParams, rpc, seed, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';

/** The embedded database's pool (pglite.pool.ts), as TypeORM's postgres driver keeps it. */
interface EmbeddedPool {
  readonly currentThread: Promise<PgliteThread | undefined>;
  readonly waitingCount: number;
}

const poolOf = (dataSource: DataSource) => (dataSource.driver as unknown as { master: EmbeddedPool }).master;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/**
 * The embedded database runs on a thread of its own: the event loop serves
 * calls while a statement executes, and a crash of that thread costs the calls
 * it held (103) and a restart of the thread, not of the process. Embedded
 * only: on PostgreSQL the database is another process already.
 */
const embedded = backendName === 'embedded' ? describe : describe.skip;

embedded('the embedded database on its own thread', () => {
  let t: TestApp;
  let folder: string;

  beforeAll(async () => {
    // A directory, not memory: the data outlives the thread that crashes.
    folder = mkdtempSync(join(tmpdir(), 'jsr-thread-'));
    t = await startTestApp({}, { target: { kind: 'embedded', dataDir: join(folder, 'data') }, drop: async () => undefined });
    await seed(t.dataSource, [1, 2, 3].map((i) => ({ jsWorkerName: 'w', startTime: T0 + i, finishTime: T0 + i + 1, result: i })));
  });

  afterAll(async () => {
    await t?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  const query = async () => (await rpc(t.app, call('js-result_query', queryParams(t.superToken, [{ js_worker_name: 'w' }])))).body;

  it('answers a call that needs no database while a statement runs', async () => {
    const statement = t.dataSource.query('SELECT pg_sleep(1)').then(() => 'statement');
    const hello = rpc(t.app, call('nodeget-server_hello', {})).then(() => 'hello');

    expect(await Promise.race([statement, hello])).toBe('hello');
    await statement;
  });

  it('answers 103 to the calls the thread held when it crashed, restarts it, and keeps the data', async () => {
    const pool = poolOf(t.dataSource);
    const crashed = (await pool.currentThread)!;
    const holding = t.dataSource.query('SELECT pg_sleep(5)').catch((err: unknown) => err);
    const held = query();
    await until(() => pool.waitingCount > 0, 'the call to reach the database thread');
    await crashed.crash();

    expect((await held).error).toEqual({ code: 103, message: 'Database error: the database is unavailable, try again later' });
    expect(await holding).toBeInstanceOf(Error);
    expect((await query()).result.map((r: { result: number }) => r.result)).toEqual([3, 2, 1]);
    expect(await pool.currentThread).not.toBe(crashed);
  });

  it('still wakes a waiter when a run finishes after the thread restarted', async () => {
    const [row] = await seed(t.dataSource, [{ jsWorkerName: 'w', startTime: Date.now() }]);
    await (await poolOf(t.dataSource).currentThread)!.crash();
    // The first statement after a crash waits for the new thread.
    expect((await query()).result).toHaveLength(4);
    const waits = t.app.get(JsResultWaitService);
    // Far beyond the contract's 100 ms, far below the wait's own timeout, at which it would answer anyway.
    const woken = rpc(t.app, call('js-result_wait', { token: t.superToken, id: Number(row.id), timeout_ms: 50_000 })).then((r) => r.body);
    await until(() => waits.waiting > 0, 'the waiter to register');

    await t.dataSource.query(`UPDATE js_result SET finish_time = $2, result = '{"ok":true}'::jsonb WHERE id = $1`, [row.id, Date.now()]);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise((resolve) => (timer = setTimeout(() => resolve('not woken'), 5_000)));
    const answer = await Promise.race([woken, late]).finally(() => clearTimeout(timer));
    expect(answer).toMatchObject({ result: { id: Number(row.id), result: { ok: true } } });
  });
});
