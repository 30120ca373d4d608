import { allIds, call, queryParams, rpc, seed, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';
import { T0 } from './support/fixtures';

/**
 * Every class of invalid params, sent to js-result_delete with conditions
 * that would otherwise delete everything: the answer is a specific -32602 and
 * the table is unchanged.
 */
describe(`invalid input changes nothing (${backendName})`, () => {
  let t: TestApp;
  let before: number[];

  beforeAll(async () => {
    t = await startTestApp();
    await seed(t.dataSource, Array.from({ length: 20 }, (_, i) => ({ jsWorkerName: `w${i % 3}`, startTime: T0 + i, result: i })));
    before = await allIds(t.dataSource);
  });

  afterAll(() => t.close());

  afterEach(async () => {
    expect(await allIds(t.dataSource)).toEqual(before);
  });

  const deleteWith = async (params: unknown) => (await rpc(t.app, call('js-result_delete', params))).body;

  it.each<[string, unknown[], string]>([
    ['a number as a condition', ['is_success', 42], 'query.condition[1]: expected a flag string'],
    ['an object with two keys', [{ id: 1, js_worker_id: 2 }], 'query.condition[0]: expected an object with exactly one key, got 2 keys'],
    ['an unknown condition', [{ worker_name: 'w1' }], 'query.condition[0]: unknown condition "worker_name"'],
    ['an unknown flag', ['is_done'], 'query.condition[0]: unknown condition "is_done"'],
    ['a string where an integer belongs', [{ id: '1' }], 'query.condition[0].id: expected a 64-bit signed integer, got "1"'],
    ['a fraction', [{ start_time_to: 1.25 }], 'query.condition[0].start_time_to: expected a 64-bit signed integer, got 1.25'],
    ['a negative limit', [{ limit: -5 }], 'query.condition[0].limit: expected an unsigned integer, got -5'],
    ['a three-element range', [{ start_time_from_to: [1, 2, 3] }], 'query.condition[0].start_time_from_to: expected a two-element array [from, to]'],
    ['a flag given a value', [{ last: 1 }], 'query.condition[0]: "last" is a flag and takes no value'],
    ['a valued condition as a bare string', ['js_worker_name'], 'query.condition[0]: "js_worker_name" needs a value'],
    ['a boolean worker name', [{ js_worker_name: true }], 'query.condition[0].js_worker_name: expected a string, got true'],
  ])('%s', async (_label, condition, message) => {
    const body = await deleteWith(queryParams(t.superToken, condition));
    expect(body.error.code).toBe(-32602);
    expect(body.error.message.startsWith(`Invalid params: ${message}`)).toBe(true);
  });

  it('a number outside the 64-bit range', async () => {
    const res = await rpc(
      t.app,
      `{"jsonrpc":"2.0","id":1,"method":"js-result_delete","params":{"token":"${t.superToken}","query":{"condition":[{"id":9223372036854775808}]}}}`,
    );
    expect(res.body.error).toEqual({
      code: -32602,
      message: 'Invalid params: query.condition[0].id: expected a 64-bit signed integer, got 9223372036854775808',
      data: { path: 'query.condition[0].id' },
    });
  });

  it('a missing query', async () => {
    expect((await deleteWith({ token: t.superToken })).error).toEqual({
      code: -32602,
      message: 'Invalid params: query: missing; expected {"condition": [...]}',
      data: { path: 'query' },
    });
  });

  it('a missing condition', async () => {
    expect((await deleteWith({ token: t.superToken, query: {} })).error).toEqual({
      code: -32602,
      message: 'Invalid params: query.condition: expected an array of conditions, got nothing',
      data: { path: 'query.condition' },
    });
  });

  it('a missing token', async () => {
    expect((await deleteWith({ query: { condition: [] } })).error).toEqual({
      code: -32602,
      message: 'Invalid params: token: expected a string "key:secret" or "username|password", got nothing',
      data: { path: 'token' },
    });
  });

  it('bad params and a bad token: the params are reported', async () => {
    expect((await deleteWith(queryParams('not a token', [{ limit: 'x' }]))).error.code).toBe(-32602);
  });

  it('a bad token with good params: 101 or 102', async () => {
    expect((await deleteWith(queryParams('garbage', []))).error.code).toBe(101);
    expect((await deleteWith(queryParams('no:such', []))).error.code).toBe(102);
  });

  it('a named worker the token may not delete, beside one it may', async () => {
    const token = await t.token([{ scopes: ['global'], permissions: [{ js_result: { delete: 'w1' } }] }]);
    const body = await deleteWith(queryParams(token, [{ js_worker_name: 'w1' }, { js_worker_name: 'w2' }]));
    expect(body.error.code).toBe(102);
  });

  it('a batch mixing a bad delete with a query leaves the table as it was', async () => {
    const { body } = await rpc(t.app, [
      call('js-result_delete', queryParams(t.superToken, [{ limit: -1 }]), 1),
      call('js-result_query', queryParams(t.superToken, [{ limit: 1 }]), 2),
    ]);
    expect(body.find((r: any) => r.id === 1).error.code).toBe(-32602);
    expect(body.find((r: any) => r.id === 2).result).toHaveLength(1);
  });
});
