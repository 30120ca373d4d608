import type { JsResult } from '../src/js-result/js-result.entity';
import { modelSelect, type ModelRow } from './support/js-result.model';
import { call, countRows, queryParams, rpc, seed, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';
import { T0, toModelRow, variedRows } from './support/fixtures';

/** Every condition of contract §2, on a varied table, against the in-memory model. */
describe(`js-result conditions (${backendName})`, () => {
  let t: TestApp;
  let rows: ModelRow[];

  const query = async (condition: unknown[]) =>
    (await rpc(t.app, call('js-result_query', queryParams(t.superToken, condition)))).body;

  beforeAll(async () => {
    t = await startTestApp();
    rows = (await seed(t.dataSource, variedRows())).map((r: JsResult) => toModelRow(r));
  });

  afterAll(() => t.close());

  const mid = T0 + 10_000;
  const cases: [string, unknown[]][] = [
    ['no condition', []],
    ['id', [{ id: 5 }]],
    ['js_worker_id', [{ js_worker_id: 12 }]],
    ['js_worker_name', [{ js_worker_name: 'w_1' }]],
    ['run_type', [{ run_type: 'inline_call' }]],
    ['start_time_from_to', [{ start_time_from_to: [T0 + 3_000, mid] }]],
    ['start_time_from', [{ start_time_from: mid }]],
    ['start_time_to', [{ start_time_to: mid }]],
    ['finish_time_from_to', [{ finish_time_from_to: [T0 + 3_000, mid] }]],
    ['finish_time_from', [{ finish_time_from: mid }]],
    ['finish_time_to', [{ finish_time_to: mid }]],
    ['is_success', ['is_success']],
    ['is_failure', ['is_failure']],
    ['is_running', ['is_running']],
    ['limit', [{ limit: 7 }]],
    ['last', ['last']],
    ['limit 0', [{ limit: 0 }]],
    ['last beside limit 0', [{ limit: 0 }, 'last']],
    ['two limits: the last counts', [{ limit: 3 }, { limit: 9 }]],
    ['a limit above 10000', [{ limit: 123_456 }]],
    ['AND of several', [{ js_worker_name: 'demo_worker' }, 'is_success', { start_time_from: T0 + 2_000 }, { limit: 4 }]],
    ['two different names match nothing', [{ js_worker_name: 'demo_worker' }, { js_worker_name: 'prod_api' }]],
    ['the same condition twice', [{ start_time_from: T0 + 1_000 }, { start_time_from: T0 + 20_000 }]],
    ['a range equal to its two halves', [{ start_time_from_to: [T0 + 20_000, T0 + 1_000] }]],
    ['a name with LIKE characters', [{ js_worker_name: 'w%1' }]],
    ['an id that does not exist', [{ id: 999_999 }]],
  ];

  it.each(cases)('%s', async (_label, condition) => {
    const body = await query(condition);
    expect(body.error).toBeUndefined();
    expect(body.result).toEqual(modelSelect(rows, condition, undefined, 'read'));
  });

  it('puts not-started records first, then newest start time, ties by id', async () => {
    const { result } = await query([]);
    const nullCount = rows.filter((r) => r.start_time === null).length;
    expect(nullCount).toBeGreaterThan(1);
    expect(result.slice(0, nullCount).every((r: any) => r.start_time === null)).toBe(true);
    const ids = result.slice(0, nullCount).map((r: any) => r.id);
    expect(ids).toEqual([...ids].sort((a: number, b: number) => b - a));
    const tied = result.filter((r: any) => r.start_time === T0 + 3_000);
    expect(tied.length).toBe(3);
    expect(tied.map((r: any) => r.id)).toEqual(tied.map((r: any) => r.id).sort((a: number, b: number) => b - a));
  });

  it('never matches a time condition on a null column', async () => {
    const { result } = await query([{ finish_time_to: Number.MAX_SAFE_INTEGER }]);
    expect(result.every((r: any) => r.finish_time !== null)).toBe(true);
    const all = await query([{ start_time_from: -(2 ** 53) + 1 }]);
    expect(all.result.every((r: any) => r.start_time !== null)).toBe(true);
  });

  it('accepts the full 64-bit range in bounds', async () => {
    const body = await rpc(
      t.app,
      `{"jsonrpc":"2.0","id":1,"method":"js-result_query","params":{"token":"${t.superToken}","query":{"condition":[{"start_time_from_to":[-9223372036854775808, 9223372036854775807]},{"limit":18446744073709551615}]}}}`,
    );
    expect(body.body.result).toEqual(modelSelect(rows, [{ start_time_from: -(2 ** 60) }, { limit: 10_000 }], undefined, 'read'));
  });

  it('stores a JSON null result as a success, and numbers as JSON numbers', async () => {
    await t.dataSource.query(
      `INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time, finish_time, param, result)
       VALUES (9007199254740993, 'nullish', 'call', $1, $2, 'null'::jsonb, 'null'::jsonb)`,
      [T0 + 999_999, T0 + 1_000_000],
    );
    const res = await rpc(t.app, call('js-result_query', queryParams(t.superToken, [{ js_worker_name: 'nullish' }, 'is_success'])));
    expect(res.body.result).toHaveLength(1);
    expect(res.body.result[0]).toMatchObject({ result: null, param: null, start_time: T0 + 999_999, finish_time: T0 + 1_000_000 });
    // Beyond 2^53 the id is written exactly, as a number, not a string.
    expect(res.text).toContain('"js_worker_id":9007199254740993,');
    await t.dataSource.query(`DELETE FROM js_result WHERE js_worker_name = 'nullish'`);
  });

  it('caps a query without limit at 1000 rows but deletes every match', async () => {
    const extra = Array.from({ length: 1_100 }, (_, i) => ({ jsWorkerName: 'bulk', startTime: T0 + i, result: i }));
    await seed(t.dataSource, extra);
    expect((await query([{ js_worker_name: 'bulk' }])).result).toHaveLength(1000);
    expect((await query([{ js_worker_name: 'bulk' }, { limit: 1050 }])).result).toHaveLength(1050);
    const before = await countRows(t.dataSource);
    const { body } = await rpc(t.app, call('js-result_delete', queryParams(t.superToken, [{ js_worker_name: 'bulk' }])));
    expect(body.result).toEqual({ success: true, deleted: 1_100, condition_count: 1 });
    expect(await countRows(t.dataSource)).toBe(before - 1_100);
  });
});
