import { call, countRows, queryParams, rpc, seed, type TestApp } from './support/test-app';
import { type ProxiedApp, startAppBehindProxy } from './support/proxied-app';
import { T0 } from './support/fixtures';

/**
 * An unreachable database is error 103 with nothing leaked, and the server
 * recovers by itself when the database is back. The embedded database lives
 * in the process and cannot become unreachable, so this runs on PostgreSQL,
 * reached through a proxy the test can cut.
 */
describe('database outage (postgres)', () => {
  let proxied: ProxiedApp | undefined;
  let t: TestApp;

  beforeAll(async () => {
    proxied = await startAppBehindProxy('database outage test', { tokenCacheTtlMs: 0 });
    if (!proxied) return;
    t = proxied.t;
    await seed(t.dataSource, Array.from({ length: 5 }, (_, i) => ({ jsWorkerName: 'w', startTime: T0 + i, result: i })));
  });

  afterAll(async () => proxied?.close());

  const query = async () => (await rpc(t.app, call('js-result_query', queryParams(t.superToken, [{ js_worker_name: 'w' }])))).body;

  it('answers 103 without leaking SQL, hosts or secrets, changes nothing, and recovers', async () => {
    if (!proxied) return;
    const { proxy } = proxied;
    expect((await query()).result).toHaveLength(5);

    await proxy.cut();
    const down = await query();
    expect(down.error).toEqual({ code: 103, message: 'Database error: the database is unavailable, try again later' });
    const deleting = await rpc(t.app, call('js-result_delete', queryParams(t.superToken, [])));
    expect(deleting.body.error.code).toBe(103);
    for (const text of [JSON.stringify(down), deleting.text]) {
      expect(text).not.toMatch(/select|delete from|127\.0\.0\.1|postgres:|ECONN|5432/i);
      expect(text).not.toContain(t.superToken.split(':')[1]);
    }

    await proxy.start();
    let recovered: any;
    for (let attempt = 0; attempt < 50; attempt++) {
      recovered = await query();
      if (recovered.result) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(recovered.result).toHaveLength(5);
    expect(await countRows(t.dataSource)).toBe(5);
  });
});
