import { createWorker, rpcCall, runWorker } from './support/js-worker.helpers';
import { startTestApp, type TestApp } from './support/test-app';
import { createPostgresDatabase, LOCAL_POSTGRES_URL, postgresReachable, type TestDatabase } from './support/test-database';
import { TcpProxy } from './support/tcp-proxy';

/**
 * A run that ends while the database is away is recorded once it is back,
 * without crashing anything; meanwhile new runs are refused with 103. Runs on
 * PostgreSQL, reached through a proxy the test cuts (see database-outage).
 */
describe('js-worker runs through a database outage (postgres)', () => {
  let available = false;
  let database: TestDatabase;
  let proxy: TcpProxy;
  let t: TestApp;

  beforeAll(async () => {
    available = await postgresReachable();
    if (!available) {
      console.warn(`js-worker outage test skipped: no PostgreSQL server at ${LOCAL_POSTGRES_URL}`);
      return;
    }
    database = await createPostgresDatabase(LOCAL_POSTGRES_URL);
    const real = new URL((database.target as { url: string }).url);
    proxy = new TcpProxy(real.hostname, Number(real.port || 5432));
    await proxy.start();
    const viaProxy = new URL(real);
    viaProxy.port = String(proxy.port);
    const target = { kind: 'postgres' as const, url: viaProxy.toString() };
    t = await startTestApp({ database: target, tokenCacheTtlMs: 60_000 }, { target, drop: async () => undefined });
  });

  afterAll(async () => {
    if (!available) return;
    await proxy.start();
    await t.close();
    await proxy.cut();
    await database.drop();
  });

  const lastRow = async () =>
    (await rpcCall(t.app, 'js-result_query', { token: t.superToken, query: { condition: [{ js_worker_name: 'through_outage' }, 'last'] } })).result;

  it('records the outcome once the database is back, and refuses runs with 103 meanwhile', async () => {
    if (!available) return;
    await createWorker(
      t.app,
      t.superToken,
      'through_outage',
      "export default { onCall() { const end = Date.now() + 800; while (Date.now() < end) {} return 'survived' } }",
    );
    const started = await runWorker(t.app, t.superToken, 'through_outage');
    expect(started.result.id).toEqual(expect.any(Number));

    await proxy.cut();
    expect((await runWorker(t.app, t.superToken, 'through_outage')).error).toEqual({
      code: 103,
      message: 'Database error: the database is unavailable, try again later',
    });
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // the script ends while the database is away
    await proxy.start();

    let row: any;
    for (let attempt = 0; attempt < 100; attempt++) {
      row = (await lastRow())?.[0];
      if (row?.finish_time) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(row).toMatchObject({ id: started.result.id, result: 'survived', error_message: null });

    // New runs work again at once: the instance lock is taken again on demand.
    const again = await runWorker(t.app, t.superToken, 'through_outage');
    expect(again.result.id).toEqual(expect.any(Number));
    for (let attempt = 0; attempt < 100; attempt++) {
      row = (await lastRow())?.[0];
      if (row?.id === again.result.id && row.finish_time) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(row).toMatchObject({ id: again.result.id, result: 'survived' });
  });
});
