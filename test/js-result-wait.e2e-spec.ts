import { DataSource } from 'typeorm';
import { JsResultWaitService } from '../src/result-events/js-result-wait.service';
import { createWorker, runWorker } from './support/js-worker.helpers';
import { call, rpc, seed, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The contract's bound: a waiter answers within 100 ms of the finish. */
const WAKE_BOUND_MS = 100;

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

const readAll = (workers: string[]) => [{ scopes: ['global'], permissions: workers.map((w) => ({ js_result: { read: w } })) }];

async function finishById(ds: DataSource, id: number, how: 'result' | 'error' = 'result'): Promise<void> {
  if (how === 'result') await ds.query(`UPDATE js_result SET finish_time = $2, result = '{"ok":true}'::jsonb WHERE id = $1`, [id, Date.now()]);
  else await ds.query(`UPDATE js_result SET finish_time = $2, error_message = 'boom' WHERE id = $1`, [id, Date.now()]);
}

async function running(ds: DataSource, worker = 'app_1'): Promise<number> {
  const [row] = await seed(ds, [{ jsWorkerName: worker, startTime: Date.now() }]);
  return Number(row.id);
}

/** js-result_wait: woken by the finish itself (a trigger's NOTIFY), bounded, released on shutdown. */
describe(`js-result_wait (${backendName})`, () => {
  let t: TestApp;
  let waits: JsResultWaitService;
  const latencies: number[] = [];

  const wait = (params: unknown, id: unknown = 1) => rpc(t.app, call('js-result_wait', params, id));

  /** Starts a wait, lets it register, finishes the row, and measures finish → reply. */
  async function wakeBy(id: number, finish: () => Promise<void>, token = t.superToken) {
    const before = waits.waiting;
    const reply = wait({ token, id, timeout_ms: 10_000 });
    let repliedAt = 0;
    void reply.then(() => (repliedAt = performance.now()));
    await waitFor(() => waits.waiting > before, 'the waiter to register');
    // Past the initial read: the waiter is waiting for the announcement now.
    await sleep(50);
    expect(repliedAt).toBe(0);
    const finishing = performance.now();
    await finish();
    const { body } = await reply;
    const latency = repliedAt - finishing;
    latencies.push(latency);
    return { body, latency };
  }

  beforeAll(async () => {
    t = await startTestApp();
    waits = t.app.get(JsResultWaitService);
  });

  afterAll(async () => {
    if (latencies.length > 0) {
      const sorted = [...latencies].sort((a, b) => a - b);
      console.log(`js-result_wait finish→reply latency (${backendName}), ms: min ${sorted[0].toFixed(1)}, max ${sorted[sorted.length - 1].toFixed(1)}, n ${sorted.length}`);
    }
    await t.close();
  });

  it('answers at once with a record that has already finished', async () => {
    const [row] = await seed(t.dataSource, [{ jsWorkerName: 'app_1', startTime: 1, finishTime: 2, result: 7 }]);
    const started = performance.now();
    const { body } = await wait({ token: t.superToken, id: Number(row.id) });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(body.result).toEqual({
      id: Number(row.id),
      js_worker_id: 1,
      js_worker_name: 'app_1',
      run_type: 'call',
      start_time: 1,
      finish_time: 2,
      param: null,
      result: 7,
      error_message: null,
    });
  });

  it(`wakes within ${WAKE_BOUND_MS} ms when an UPDATE finishes the row (success and failure)`, async () => {
    for (const how of ['result', 'error'] as const) {
      const id = await running(t.dataSource);
      const { body, latency } = await wakeBy(id, () => finishById(t.dataSource, id, how));
      expect(body.result).toMatchObject({ id, finish_time: expect.any(Number) });
      if (how === 'error') expect(body.result.error_message).toBe('boom');
      else expect(body.result.result).toEqual({ ok: true });
      expect(latency).toBeLessThan(WAKE_BOUND_MS);
    }
  });

  it('counts a row as finished when only finish_time is set, or only result (JSON null included)', async () => {
    const onlyTime = await running(t.dataSource);
    const { body, latency } = await wakeBy(onlyTime, () => t.dataSource.query('UPDATE js_result SET finish_time = 5 WHERE id = $1', [onlyTime]));
    expect(body.result).toMatchObject({ id: onlyTime, finish_time: 5, result: null, error_message: null });
    expect(latency).toBeLessThan(WAKE_BOUND_MS);
    const jsonNull = await running(t.dataSource);
    const woken = await wakeBy(jsonNull, () => t.dataSource.query(`UPDATE js_result SET result = 'null'::jsonb WHERE id = $1`, [jsonNull]));
    expect(woken.body.result).toMatchObject({ id: jsonNull, result: null, finish_time: null });
    expect(woken.latency).toBeLessThan(WAKE_BOUND_MS);
  });

  it(`wakes within ${WAKE_BOUND_MS} ms when a real js-worker_run finishes`, async () => {
    expect((await createWorker(t.app, t.superToken, 'wait_busy', 'export default { onCall() { const end = Date.now() + 300; while (Date.now() < end) {} return 42 } }')).error).toBeUndefined();
    const started = await runWorker(t.app, t.superToken, 'wait_busy');
    const id = started.result.id;
    const { body } = await wait({ token: t.superToken, id, timeout_ms: 10_000 });
    const repliedAt = Date.now();
    expect(body.result).toMatchObject({ id, result: 42, error_message: null, finish_time: expect.any(Number) });
    // finish_time is taken just before the UPDATE that records the outcome.
    const latency = repliedAt - body.result.finish_time;
    latencies.push(latency);
    expect(latency).toBeLessThan(WAKE_BOUND_MS);
  });

  it('answers with the record as it stands when the timeout passes (and at once for 0)', async () => {
    const id = await running(t.dataSource);
    const started = performance.now();
    const { body } = await wait({ token: t.superToken, id, timeout_ms: 300 });
    const took = performance.now() - started;
    expect(body.result).toMatchObject({ id, finish_time: null, result: null, error_message: null });
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(2_000);

    const zero = performance.now();
    expect((await wait([t.superToken, id, 0])).body.result).toMatchObject({ id, finish_time: null });
    expect(performance.now() - zero).toBeLessThan(250);
    expect(waits.waiting).toBe(0);
  });

  it('is 105 with the same message for an id that does not exist and one the token may not read', async () => {
    const hidden = await running(t.dataSource, 'ops_secret');
    const missing = hidden + 1_000_000;
    const limited = await t.token(readAll(['app_*']));
    const unreadable = await wait({ token: limited, id: hidden, timeout_ms: 0 });
    const absent = await wait({ token: limited, id: missing, timeout_ms: 0 });
    expect(unreadable.body.error).toEqual({ code: 105, message: `Not found: js_result ${hidden} not found` });
    expect(absent.body.error).toEqual({ code: 105, message: `Not found: js_result ${missing} not found` });
    // The same while waiting: a limited token is not woken by, nor told about, another worker's row.
    expect((await wait({ token: limited, id: hidden, timeout_ms: 5_000 })).body.error.code).toBe(105);
    // A readable row is answered to the same token.
    const mine = await running(t.dataSource, 'app_2');
    expect((await wait({ token: limited, id: mine, timeout_ms: 0 })).body.result.id).toBe(mine);
    expect(waits.waiting).toBe(0);
  });

  it('is 105 when the row is deleted while waited on', async () => {
    const id = await running(t.dataSource);
    const reply = wait({ token: t.superToken, id, timeout_ms: 300 });
    await waitFor(() => waits.waiting === 1, 'the waiter');
    await t.dataSource.query('DELETE FROM js_result WHERE id = $1', [id]);
    expect((await reply).body.error).toEqual({ code: 105, message: `Not found: js_result ${id} not found` });
  });

  it('checks params before the token: -32602 for a bad id or timeout_ms, whatever the token', async () => {
    const bad: [unknown, unknown, string][] = [
      ['x', 100, 'id: expected the js_result id (a 64-bit signed integer), got "x"'],
      [1.5, 100, 'id: expected the js_result id (a 64-bit signed integer), got 1.5'],
      [undefined, 100, 'id: expected the js_result id (a 64-bit signed integer), got nothing'],
      [1, -1, 'timeout_ms: expected an integer from 0 to 60000 (milliseconds), got -1'],
      [1, 60_001, 'timeout_ms: expected an integer from 0 to 60000 (milliseconds), got 60001'],
      [1, 2.5, 'timeout_ms: expected an integer from 0 to 60000 (milliseconds), got 2.5'],
      [1, '100', 'timeout_ms: expected an integer from 0 to 60000 (milliseconds), got "100"'],
    ];
    for (const [id, timeout_ms, message] of bad) {
      const { body } = await wait({ token: 'not a token', id, timeout_ms });
      expect(body.error).toEqual({ code: -32602, message: `Invalid params: ${message}`, data: { path: message.slice(0, message.indexOf(': ')) } });
    }
    expect((await wait({ token: 'nonsense', id: 1 })).body.error.code).toBe(101);
    expect((await wait({ token: 'abc:def', id: 1 })).body.error.code).toBe(102);
  });

  it('keeps a 64-bit id exact', async () => {
    const big = '9007199254740993';
    await t.dataSource.query(
      `INSERT INTO js_result (id, js_worker_id, js_worker_name, run_type, start_time, finish_time, result) VALUES ($1, 1, 'app_1', 'call', 1, 2, '1')`,
      [big],
    );
    const reply = await rpc(t.app, `{"jsonrpc":"2.0","id":1,"method":"js-result_wait","params":{"token":"${t.superToken}","id":${big}}}`);
    expect(reply.text).toContain(`"id":${big},`);
    await t.dataSource.query('DELETE FROM js_result WHERE id = $1', [big]);
  });
});

describe(`js-result_wait bounds (${backendName})`, () => {
  it('refuses waiters past the per-process cap with 108, and takes them again once there is room', async () => {
    const small = await startTestApp({ jsResultMaxWaiters: 2 });
    try {
      const waits = small.app.get(JsResultWaitService);
      const [a, b, c] = await seed(small.dataSource, [1, 2, 3].map(() => ({ jsWorkerName: 'app_1', startTime: 1 })));
      const params = (id: unknown, timeout_ms = 10_000) => ({ token: small.superToken, id: Number(id), timeout_ms });
      const first = rpc(small.app, call('js-result_wait', params(a.id)));
      const second = rpc(small.app, call('js-result_wait', params(b.id)));
      await waitFor(() => waits.waiting === 2, 'two waiters');
      const refused = await rpc(small.app, call('js-result_wait', params(c.id, 0)));
      expect(refused.body.error).toEqual({
        code: 108,
        message: 'Invalid input: too many js-result_wait calls are waiting on this server (at most 2); try again later',
      });
      await finishById(small.dataSource, Number(a.id));
      expect((await first).body.result.id).toBe(Number(a.id));
      expect((await rpc(small.app, call('js-result_wait', params(c.id, 0)))).body.result.id).toBe(Number(c.id));
      await finishById(small.dataSource, Number(b.id));
      expect((await second).body.result.id).toBe(Number(b.id));
      expect(waits.waiting).toBe(0);
    } finally {
      await small.close();
    }
  });

  it('answers every waiter with its record as it stands when the server shuts down', async () => {
    const app = await startTestApp();
    const waits = app.app.get(JsResultWaitService);
    const [row] = await seed(app.dataSource, [{ jsWorkerName: 'app_1', startTime: 1 }]);
    const pending = [1, 2, 3].map((i) => rpc(app.app, call('js-result_wait', { token: app.superToken, id: Number(row.id), timeout_ms: 60_000 }, i)));
    await waitFor(() => waits.waiting === 3, 'three waiters');
    const started = performance.now();
    const closing = app.close();
    const replies = await Promise.all(pending);
    expect(performance.now() - started).toBeLessThan(5_000);
    for (const reply of replies) expect(reply.body.result).toMatchObject({ id: Number(row.id), finish_time: null, result: null });
    await closing;
    expect(waits.waiting).toBe(0);
  });
});
