import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsWorkerInstance } from '../src/js-worker/js-worker.instance';
import { createWorker, resultRow, rpcCall, runWorker, waitFinished } from './support/js-worker.helpers';
import { rpcOver, startServer } from './support/processes';
import { seed, startTestApp, type TestApp } from './support/test-app';
import {
  backendName,
  createPostgresDatabase,
  createTestDatabase,
  LOCAL_POSTGRES_URL,
  postgresReachable,
  serverUrl,
  type TestDatabase,
} from './support/test-database';

const BUSY = (ms: number) =>
  `export default { onCall() { const end = Date.now() + ${ms}; while (Date.now() < end) {} return 'done' } }`;

/** Storage that outlives one app: a real DATA_DIR on the embedded backend (memory:// would vanish), or one PG database. */
async function durableDatabase(): Promise<TestDatabase> {
  if (serverUrl) return createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'jsw-restart-'));
  return { target: { kind: 'embedded', dataDir }, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
}

async function trackedRunningRow(t: TestApp, instanceId: number): Promise<number> {
  const [row] = await seed(t.dataSource, [{ jsWorkerName: 'left_behind', runType: 'call', startTime: Date.now() - 1000, param: { p: 1 } }]);
  await t.dataSource.query('INSERT INTO js_worker_active_run (js_result_id, instance_id) VALUES ($1, $2)', [row.id, instanceId]);
  return row.id;
}

async function unusedInstanceId(t: TestApp): Promise<number> {
  const [{ id }] = await t.dataSource.query(`SELECT nextval('js_worker_instance_seq')::integer AS id`);
  return Number(id);
}

/** is_running never lies: runs a server can no longer finish are finished as failures. */
describe(`js-worker runs across restarts (${backendName})`, () => {
  let database: TestDatabase;
  const open: TestApp[] = [];

  const start = async () => {
    const app = await startTestApp({ tokenCacheTtlMs: 0 }, database);
    open.push(app);
    return app;
  };
  const stop = async (app: TestApp) => {
    open.splice(open.indexOf(app), 1);
    await app.close();
  };

  beforeEach(async () => {
    database = await durableDatabase();
  });

  afterEach(async () => {
    for (const app of open.splice(0)) await app.close();
    await database.drop();
  });

  it('finishes at start-up the runs a stopped server left running, and nothing else', async () => {
    const first = await start();
    const orphan = await trackedRunningRow(first, await unusedInstanceId(first));
    const [foreign] = await seed(first.dataSource, [{ jsWorkerName: 'other_writer', startTime: Date.now() }]);
    await stop(first);

    const beforeRestart = Date.now();
    const second = await start();
    const row = await resultRow(second.app, second.superToken, orphan);
    expect(row).toMatchObject({ result: null, error_message: 'interrupted: server restarted', param: { p: 1 } });
    expect(row.finish_time).toBeGreaterThanOrEqual(beforeRestart);
    // A row this service does not track (another writer's) is left alone.
    expect(await resultRow(second.app, second.superToken, foreign.id)).toMatchObject({ finish_time: null, error_message: null });
    expect(await second.dataSource.query('SELECT * FROM js_worker_active_run')).toEqual([]);
  });

  it('finishes its own runs as interrupted when it shuts down', async () => {
    const first = await start();
    await createWorker(first.app, first.superToken, 'long_run', BUSY(20_000));
    const { result } = await runWorker(first.app, first.superToken, 'long_run');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const closing = Date.now();
    await stop(first);
    expect(Date.now() - closing).toBeLessThan(5_000);

    const second = await start();
    expect(await resultRow(second.app, second.superToken, result.id)).toMatchObject({
      result: null,
      error_message: 'interrupted: server shut down',
      finish_time: expect.any(Number),
    });
  });
});

/**
 * Several servers on one PostgreSQL database: one starting, or sweeping, never
 * touches the runs of another that is alive. Runs on PostgreSQL whatever the
 * backend under test (the embedded database cannot be shared).
 */
describe('js-worker runs of several servers on one database (postgres)', () => {
  let available = false;
  let database: TestDatabase;
  const open: TestApp[] = [];

  beforeAll(async () => {
    available = await postgresReachable();
    if (!available) console.warn(`multi-server test skipped: no PostgreSQL server at ${LOCAL_POSTGRES_URL}`);
  });

  afterEach(async () => {
    for (const app of open.splice(0)) await app.close();
    if (database) await database.drop();
  });

  it('leaves a live server’s runs alone and finishes a dead one’s', async () => {
    if (!available) return;
    database = await createPostgresDatabase(LOCAL_POSTGRES_URL);
    const a = await startTestApp({}, database);
    open.push(a);
    await createWorker(a.app, a.superToken, 'shared_busy', BUSY(1_500));
    const running = (await runWorker(a.app, a.superToken, 'shared_busy')).result.id;

    const b = await startTestApp({}, database); // its start-up sweep runs now, while a's run is under way
    open.push(b);
    const dead = await trackedRunningRow(b, await unusedInstanceId(b));
    expect(await b.app.get(JsWorkerInstance).sweep()).toEqual([dead]);
    expect(await resultRow(b.app, b.superToken, running)).toMatchObject({ finish_time: null, error_message: null });

    expect((await waitFinished(b.app, b.superToken, running)).result).toBe('done');
    expect((await resultRow(b.app, b.superToken, dead)).error_message).toBe('interrupted: server restarted');
  });
});

/** A real crash: the server process is killed (SIGKILL) in the middle of a run, then started again. */
describe(`js-worker runs after the server process is killed (${backendName})`, () => {
  it('finishes the killed server’s run when it starts again', async () => {
    const kind = backendName;
    const db =
      kind === 'postgres'
        ? await createPostgresDatabase(LOCAL_POSTGRES_URL)
        : { target: { kind: 'embedded' as const, dataDir: mkdtempSync(join(tmpdir(), 'jsw-kill-')) } };
    const env: Record<string, string> =
      db.target.kind === 'postgres' ? { DATABASE_URL: db.target.url } : { DATA_DIR: db.target.dataDir };
    try {
      const first = await startServer(env);
      let id: number;
      let token: string;
      try {
        token = first.output().match(/^[A-Za-z0-9]{16}:[A-Za-z0-9]{32}$/m)![0];
        const created = await rpcOver(first.port, 'js-worker_create', {
          token,
          name: 'crashing',
          js_script_base64: Buffer.from(BUSY(30_000)).toString('base64'),
        });
        expect(created.result).toBeDefined();
        id = (await rpcOver(first.port, 'js-worker_run', { token, js_script_name: 'crashing' })).result.id;
        await new Promise((resolve) => setTimeout(resolve, 300));
      } finally {
        await first.kill();
      }
      // The embedded database's directory lock is taken over once the dead holder stops refreshing it.
      if (kind === 'embedded') await new Promise((resolve) => setTimeout(resolve, 11_000));
      const second = await startServer(env);
      try {
        const body = await rpcOver(second.port, 'js-result_query', { token, query: { condition: [{ id }] } });
        expect(body.result[0]).toMatchObject({ id, result: null, error_message: 'interrupted: server restarted' });
      } finally {
        await second.stop();
      }
    } finally {
      if ('drop' in db) await db.drop();
      else rmSync(db.target.dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
