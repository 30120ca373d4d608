import { call, queryParams, rpc, seed, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';
import { DEMO_LIMITS, T0 } from './support/fixtures';
import { countRows } from './support/test-app';

/** Every example of the user's API page (seed/js-result-crud.txt), answered as the contract says. */
describe(`seed page examples (${backendName})`, () => {
  let t: TestApp;
  let demoToken: string;

  beforeAll(async () => {
    t = await startTestApp();
    demoToken = await t.token(DEMO_LIMITS);
  });

  afterAll(() => t.close());

  beforeEach(async () => {
    await t.dataSource.query('DELETE FROM js_result');
    // 25 finished calls, 6 inline_calls, 2 running, 55 failures, and another worker's rows.
    const rows = [
      ...Array.from({ length: 25 }, (_, i) => ({
        jsWorkerName: 'demo_worker', jsWorkerId: 10, runType: 'call', startTime: T0 + i * 1000,
        finishTime: T0 + i * 1000 + 123, param: { hello: 'world' }, result: { ok: true },
      })),
      ...Array.from({ length: 6 }, (_, i) => ({
        jsWorkerName: 'demo_worker', jsWorkerId: 10, runType: 'inline_call', startTime: T0 + 100_000 + i,
        finishTime: T0 + 100_000 + i + 5, result: { inline: i },
      })),
      ...Array.from({ length: 2 }, (_, i) => ({
        jsWorkerName: 'demo_worker', jsWorkerId: 10, runType: 'cron', startTime: T0 + 200_000 + i,
      })),
      ...Array.from({ length: 55 }, (_, i) => ({
        jsWorkerName: 'demo_worker', jsWorkerId: 10, runType: 'cron', startTime: T0 - 100_000 + i,
        finishTime: T0 - 100_000 + i + 1, errorMessage: `failed ${i}`,
      })),
      { jsWorkerName: 'other_worker', jsWorkerId: 11, runType: 'call', startTime: T0 + 900_000, result: 1 },
    ];
    await seed(t.dataSource, rows);
  });

  it('queries the last 10 results of a worker, newest first, with the documented record shape', async () => {
    const { body } = await rpc(t.app, call('js-result_query', queryParams(demoToken, [{ js_worker_name: 'demo_worker' }, { limit: 10 }]), 1));
    expect(body.jsonrpc).toBe('2.0');
    expect(body.id).toBe(1);
    expect(body.result).toHaveLength(10);
    const starts = body.result.map((r: any) => r.start_time);
    expect(starts).toEqual([...starts].sort((a: number, b: number) => b - a));
    expect(starts[0]).toBe(T0 + 200_001);
    for (const record of body.result) {
      expect(Object.keys(record).sort()).toEqual(
        ['error_message', 'finish_time', 'id', 'js_worker_id', 'js_worker_name', 'param', 'result', 'run_type', 'start_time'],
      );
      expect(typeof record.id).toBe('number');
      expect(record.js_worker_id).toBe(10);
      expect(record.js_worker_name).toBe('demo_worker');
    }
    const finished = body.result.find((r: any) => r.run_type === 'call' || r.run_type === 'inline_call');
    expect(typeof finished.finish_time).toBe('number');
  });

  it('queries running records', async () => {
    const { body } = await rpc(t.app, call('js-result_query', queryParams(demoToken, [{ js_worker_name: 'demo_worker' }, 'is_running']), 2));
    expect(body.id).toBe(2);
    expect(body.result).toHaveLength(2);
    for (const r of body.result) {
      expect(r.finish_time).toBeNull();
      expect(r.result).toBeNull();
      expect(r.error_message).toBeNull();
    }
  });

  it('queries the last record', async () => {
    const { body } = await rpc(t.app, call('js-result_query', queryParams(demoToken, [{ js_worker_name: 'demo_worker' }, 'last']), 3));
    expect(body.id).toBe(3);
    expect(body.result).toHaveLength(1);
    expect(body.result[0].start_time).toBe(T0 + 200_001);
  });

  it('queries by run_type', async () => {
    const { body } = await rpc(
      t.app,
      call('js-result_query', queryParams(demoToken, [{ js_worker_name: 'demo_worker' }, { run_type: 'inline_call' }, { limit: 20 }]), 4),
    );
    expect(body.id).toBe(4);
    expect(body.result).toHaveLength(6);
    expect(body.result.every((r: any) => r.run_type === 'inline_call')).toBe(true);
    expect(body.result.map((r: any) => r.result)).toEqual([5, 4, 3, 2, 1, 0].map((i) => ({ inline: i })));
  });

  it('deletes the last result of a worker and answers exactly as documented', async () => {
    const before = await countRows(t.dataSource);
    const { status, body } = await rpc(t.app, call('js-result_delete', queryParams(demoToken, [{ js_worker_name: 'demo_worker' }, 'last']), 1));
    expect(status).toBe(200);
    expect(body).toEqual({ jsonrpc: '2.0', id: 1, result: { success: true, deleted: 1, condition_count: 2 } });
    expect(await countRows(t.dataSource)).toBe(before - 1);
    const newest = await rpc(t.app, call('js-result_query', queryParams(demoToken, [{ js_worker_name: 'demo_worker' }, 'last'])));
    expect(newest.body.result[0].start_time).toBe(T0 + 200_000);
  });

  it('deletes the 50 most recent failures of a worker', async () => {
    const { body } = await rpc(
      t.app,
      call('js-result_delete', queryParams(demoToken, [{ js_worker_name: 'demo_worker' }, 'is_failure', { limit: 50 }]), 2),
    );
    expect(body.result).toEqual({ success: true, deleted: 50, condition_count: 3 });
    const left = await rpc(t.app, call('js-result_query', queryParams(demoToken, [{ js_worker_name: 'demo_worker' }, 'is_failure'])));
    // The five oldest failures remain.
    expect(left.body.result.map((r: any) => r.error_message)).toEqual(['failed 4', 'failed 3', 'failed 2', 'failed 1', 'failed 0']);
  });

  it('deletes by run_type', async () => {
    const { body } = await rpc(
      t.app,
      call('js-result_delete', queryParams(demoToken, [{ js_worker_name: 'demo_worker' }, { run_type: 'inline_call' }, { limit: 20 }]), 3),
    );
    expect(body.result).toEqual({ success: true, deleted: 6, condition_count: 3 });
    const left = await rpc(t.app, call('js-result_query', queryParams(demoToken, [{ run_type: 'inline_call' }])));
    expect(left.body.result).toEqual([]);
    expect(await countRows(t.dataSource)).toBe(25 + 2 + 55 + 1);
  });
});
