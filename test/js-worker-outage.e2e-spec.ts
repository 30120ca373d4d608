import { createWorker, rpcCall, runWorker } from './support/js-worker.helpers';
import { type TestApp } from './support/test-app';
import { type ProxiedApp, startAppBehindProxy } from './support/proxied-app';

/**
 * A run that ends while the database is away is recorded once it is back,
 * without crashing anything; meanwhile new runs are refused with 103. Runs on
 * PostgreSQL, reached through a proxy the test cuts (see database-outage).
 */
describe('js-worker runs through a database outage (postgres)', () => {
  let proxied: ProxiedApp | undefined;
  let t: TestApp;

  beforeAll(async () => {
    proxied = await startAppBehindProxy('js-worker outage test', { tokenCacheTtlMs: 60_000 });
    if (proxied) t = proxied.t;
  });

  afterAll(async () => proxied?.close());

  const lastRow = async () =>
    (await rpcCall(t.app, 'js-result_query', { token: t.superToken, query: { condition: [{ js_worker_name: 'through_outage' }, 'last'] } })).result;

  it('records the outcome once the database is back, and refuses runs with 103 meanwhile', async () => {
    if (!proxied) return;
    const { proxy } = proxied;
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
