import { DEFAULT_RESPONSE_LIMITS } from '../src/config/app.config';
import { JsResultRepository } from '../src/js-result/js-result.repository';
import { LocalRuns } from '../src/result-events/local-runs.registry';
import { JsResultWaitService } from '../src/result-events/js-result-wait.service';
import { createWorker, rpcCall, runWorker } from './support/js-worker.helpers';
import { startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const CALL_LIMIT = 64 * 1024;
/** A result over what one call's reply may take. */
const LARGE_RESULT_CHARS = 100_000;

const BUSY = 'export default { onCall(p) { const end = Date.now() + 300; while (Date.now() < end) {} return p } }';

/**
 * js-result_wait on a run this process started and has not finished: it waits without reading
 * the row first (LocalRuns), and is answered with the record the run's finish read back, as before.
 */
describe(`js-result_wait on this process's own runs (${backendName})`, () => {
  let t: TestApp;
  let localRuns: LocalRuns;
  let waits: JsResultWaitService;
  let reads: jest.SpyInstance;
  let finishes: jest.SpyInstance;

  const wait = (params: Record<string, unknown>) => rpcCall(t.app, 'js-result_wait', params);
  /** How many row reads asked for this id. */
  const readsOf = (id: number) => reads.mock.calls.filter(([ids]) => (ids as string[]).includes(String(id))).length;

  beforeAll(async () => {
    t = await startTestApp({ responses: { ...DEFAULT_RESPONSE_LIMITS, maxCallResponseBytes: CALL_LIMIT } });
    localRuns = t.app.get(LocalRuns);
    waits = t.app.get(JsResultWaitService);
    reads = jest.spyOn(t.app.get(JsResultRepository), 'cappedByIds');
    finishes = jest.spyOn(t.app.get(JsResultRepository), 'finishRuns');
    for (const [name, source] of [['app_busy', BUSY], ['ops_busy', BUSY], ['app_echo', 'export default { onCall: (p) => p }']]) {
      expect((await createWorker(t.app, t.superToken, name, source)).error).toBeUndefined();
    }
  });

  afterAll(async () => {
    reads.mockRestore();
    finishes.mockRestore();
    await t.close();
  });

  /** Whether the finish of this id was written asking for its record back. */
  const finishWanted = (id: number) =>
    finishes.mock.calls.flatMap(([ends]) => ends as { id: number; wanted: boolean }[]).find((end) => end.id === id)?.wanted;

  it('answers with the finished record the finish read back, without reading the row', async () => {
    const { id } = (await runWorker(t.app, t.superToken, 'app_busy', { params: { n: 7 } })).result;
    expect(localRuns.workerOf(String(id))).toBe('app_busy');
    const body = await wait({ token: t.superToken, id, timeout_ms: 10_000 });
    expect(body.result).toMatchObject({ id, js_worker_name: 'app_busy', result: { n: 7 }, error_message: null, finish_time: expect.any(Number) });
    expect(finishWanted(id)).toBe(true);
    expect(readsOf(id)).toBe(0);
    expect(localRuns.workerOf(String(id))).toBeUndefined();
  });

  it('reads nothing back when nobody waits, and a later wait reads the row once', async () => {
    const { id } = (await runWorker(t.app, t.superToken, 'app_echo', { params: 'alone' })).result;
    for (let i = 0; i < 200 && localRuns.size > 0; i++) await sleep(10);
    expect(finishWanted(id)).toBe(false);
    const body = await wait({ token: t.superToken, id, timeout_ms: 10_000 });
    expect(body.result).toMatchObject({ id, result: 'alone', finish_time: expect.any(Number) });
    expect(readsOf(id)).toBe(1);
  });

  it('answers a record too large to read back with 108, as a read of the row does', async () => {
    const big = await createWorker(t.app, t.superToken, 'app_big', `export default { onCall() { const end = Date.now() + 300; while (Date.now() < end) {} return 'x'.repeat(${LARGE_RESULT_CHARS}) } }`);
    expect(big.error).toBeUndefined();
    const { id } = (await runWorker(t.app, t.superToken, 'app_big')).result;
    const body = await wait({ token: t.superToken, id, timeout_ms: 10_000 });
    expect(finishWanted(id)).toBe(true);
    expect(body.error).toMatchObject({ code: 108 });
    expect(body.error.message).toContain('bytes');
  });

  it('answers every one of many runs waited on at once with its own result', async () => {
    const ids = await Promise.all(Array.from({ length: 40 }, (_, n) => runWorker(t.app, t.superToken, 'app_echo', { params: n }).then((body) => body.result.id as number)));
    const bodies = await Promise.all(ids.map((id) => wait({ token: t.superToken, id, timeout_ms: 20_000 })));
    bodies.forEach((body, n) => expect(body.result).toMatchObject({ id: ids[n], result: n, finish_time: expect.any(Number) }));
    expect(waits.waiting).toBe(0);
    expect(localRuns.size).toBe(0);
  });

  it('is 105 for a token that may not read the run, as for a row of another process', async () => {
    const limited = await t.token([{ scopes: ['global'], permissions: [{ js_result: { read: 'app_*' } }] }]);
    const { id } = (await runWorker(t.app, t.superToken, 'ops_busy')).result;
    expect(localRuns.workerOf(String(id))).toBe('ops_busy');
    expect((await wait({ token: limited, id, timeout_ms: 5_000 })).error).toEqual({ code: 105, message: `Not found: js_result ${id} not found` });
    const { id: readable } = (await runWorker(t.app, t.superToken, 'app_busy')).result;
    expect((await wait({ token: limited, id: readable, timeout_ms: 10_000 })).result).toMatchObject({ id: readable, finish_time: expect.any(Number) });
  });

  it('answers at once for timeout_ms 0, with the row as it stands', async () => {
    const { id } = (await runWorker(t.app, t.superToken, 'app_busy')).result;
    expect((await wait({ token: t.superToken, id, timeout_ms: 0 })).result).toMatchObject({ id, finish_time: null });
    expect((await wait({ token: t.superToken, id, timeout_ms: 10_000 })).result).toMatchObject({ id, finish_time: expect.any(Number) });
  });

  it('is 105 once its timeout passes when the running row was deleted before the wait', async () => {
    const { id } = (await runWorker(t.app, t.superToken, 'app_busy')).result;
    await t.dataSource.query('DELETE FROM js_result WHERE id = $1', [id]);
    const body = await wait({ token: t.superToken, id, timeout_ms: 1_000 });
    expect(body.error).toEqual({ code: 105, message: `Not found: js_result ${id} not found` });
    // The run still ends and is no longer listed.
    for (let i = 0; i < 200 && localRuns.workerOf(String(id)) !== undefined; i++) await sleep(10);
    expect(localRuns.workerOf(String(id))).toBeUndefined();
  });
});
