import { createWorker, rpcCall, runWorker, waitFinished } from './support/js-worker.helpers';
import { call, rpc, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';

const RUNS = 40;

/**
 * Runs starting or ending together share their js_result statements
 * (JsWorkerRunWrites): each run must still get its own row, its own
 * outcome and console, and its tracking row must go with its finish; a run
 * whose outcome the database refuses must fail alone.
 */
describe(`js-worker runs written together (${backendName})`, () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ tokenCacheTtlMs: 0 });
    await createWorker(
      t.app,
      t.superToken,
      'batch_echo',
      `export default { onCall(p) { console.log('run', p.n); return p.bad ? { text: '\\ud800' } : { n: p.n } } }`,
    );
  });

  afterAll(() => t.close());

  async function activeRuns(ids: number[]): Promise<number> {
    const [{ n }] = await t.dataSource.query('SELECT count(*)::int AS n FROM js_worker_active_run WHERE js_result_id = ANY($1::bigint[])', [ids]);
    return n;
  }

  it('gives each of many runs started in one request its own row, result and console, and ends their tracking', async () => {
    const batch = Array.from({ length: RUNS }, (_, n) => call('js-worker_run', { token: t.superToken, js_script_name: 'batch_echo', params: { n } }, n));
    const replies = (await rpc(t.app, batch)).body as { id: number; result: { id: number } }[];
    const ids = replies.sort((a, b) => a.id - b.id).map((reply) => reply.result.id);
    expect(new Set(ids).size).toBe(RUNS);
    const waited = await Promise.all(ids.map((id) => rpcCall(t.app, 'js-result_wait', { token: t.superToken, id, timeout_ms: 20_000 })));
    waited.forEach((reply, n) => {
      expect(reply.result).toMatchObject({ id: ids[n], param: { n }, result: { n }, error_message: null, finish_time: expect.any(Number) });
    });
    const consoles = await Promise.all(ids.map((id) => rpcCall(t.app, 'js-worker_run_console', { token: t.superToken, id })));
    consoles.forEach((reply, n) => expect(reply.result).toMatchObject({ id: ids[n], finished: true, lines: [`[log] run ${n}`] }));
    expect(await activeRuns(ids)).toBe(0);
  });

  it('records a result the database could not store as that run failing, naming where, and the runs ending beside it as they ended', async () => {
    const started = await Promise.all(Array.from({ length: 12 }, (_, n) => runWorker(t.app, t.superToken, 'batch_echo', { params: { n, bad: n === 5 } })));
    const ids = started.map((reply) => reply.result.id as number);
    const rows = await Promise.all(ids.map((id) => waitFinished(t.app, t.superToken, id)));
    rows.forEach((row, n) => {
      if (n === 5) {
        expect(row).toMatchObject({ result: null, error_message: 'result could not be stored: result.text: contains an unpaired surrogate (U+D800), which cannot be stored' });
      } else {
        expect(row).toMatchObject({ result: { n }, error_message: null });
      }
    });
    expect(await activeRuns(ids)).toBe(0);
  });

  it('runs each run of a request mixing workers on the code of its own worker, and writes nothing for a missing worker', async () => {
    await createWorker(t.app, t.superToken, 'batch_a', 'export default { onCall: (p) => ({ worker: "a", p }) }');
    await createWorker(t.app, t.superToken, 'batch_b', 'export default { onCall: (p) => ({ worker: "b", p }) }');
    const names = ['batch_a', 'batch_b', 'batch_missing', 'batch_a', 'batch_b', 'batch_a', 'batch_missing'];
    const before = await t.dataSource.query('SELECT count(*)::int AS n FROM js_result');
    const batch = names.map((name, n) => call('js-worker_run', { token: t.superToken, js_script_name: name, params: n }, n));
    const replies = ((await rpc(t.app, batch)).body as { id: number; result?: { id: number }; error?: { code: number; message: string } }[]).sort(
      (a, b) => a.id - b.id,
    );
    for (const [n, name] of names.entries()) {
      if (name === 'batch_missing') {
        expect(replies[n].error).toEqual({ code: 105, message: 'Not found in database: js_worker not found: batch_missing' });
        continue;
      }
      const row = await waitFinished(t.app, t.superToken, replies[n].result!.id);
      expect(row).toMatchObject({ js_worker_name: name, param: n, result: { worker: name.slice(-1), p: n }, error_message: null });
    }
    const [{ n: written }] = await t.dataSource.query('SELECT count(*)::int AS n FROM js_result');
    expect(written - before[0].n).toBe(names.filter((name) => name !== 'batch_missing').length);
    const [{ n: orphans }] = await t.dataSource.query(
      'SELECT count(*)::int AS n FROM js_result r LEFT JOIN js_worker w ON w.id = r.js_worker_id AND w.name = r.js_worker_name WHERE w.id IS NULL',
    );
    expect(orphans).toBe(0);
  });
});
