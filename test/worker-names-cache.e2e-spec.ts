import { call, countRows, queryParams, rpc, seed, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';
import { T0 } from './support/fixtures';

const TTL_MS = 400;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reads that name no worker reuse the worker names found under the token's
 * patterns for WORKER_NAMES_CACHE_TTL_MS. What may lag is only a worker's
 * first appearance in such reads, and only for that long.
 */
describe(`worker names cache (${backendName})`, () => {
  let t: TestApp;
  let teamToken: string;
  const workersIn = async (condition: unknown[]) => {
    const { body } = await rpc(t.app, call('js-result_query', queryParams(teamToken, condition)));
    expect(body.error).toBeUndefined();
    return [...new Set((body.result as { js_worker_name: string }[]).map((r) => r.js_worker_name))].sort();
  };

  beforeAll(async () => {
    t = await startTestApp({ workerNamesCacheTtlMs: TTL_MS });
    teamToken = await t.token([
      { scopes: [{ js_worker: 'team_*' }], permissions: [{ js_result: { read: 'team_*' } }, { js_result: { delete: 'team_*' } }] },
    ]);
  });

  afterAll(() => t.close());

  beforeEach(async () => {
    await t.dataSource.query('DELETE FROM js_result');
    await sleep(TTL_MS);
    await seed(t.dataSource, [{ jsWorkerName: 'team_a', startTime: T0, result: 1 }]);
  });

  it('shows new rows of known workers at once', async () => {
    expect(await workersIn([])).toEqual(['team_a']);
    await seed(t.dataSource, [{ jsWorkerName: 'team_a', startTime: T0 + 1, result: 2 }]);
    const { body } = await rpc(t.app, call('js-result_query', queryParams(teamToken, [])));
    expect(body.result.map((r: { result: number }) => r.result)).toEqual([2, 1]);
  });

  it('shows a new worker at once when it is named, and in reads without a name within the TTL', async () => {
    expect(await workersIn([])).toEqual(['team_a']);
    await seed(t.dataSource, [{ jsWorkerName: 'team_b', startTime: T0 + 1, result: 2 }]);
    expect(await workersIn([{ js_worker_name: 'team_b' }])).toEqual(['team_b']);
    await sleep(TTL_MS);
    expect(await workersIn([])).toEqual(['team_a', 'team_b']);
  });

  it('never leaves a new worker behind in a delete, which finds the names itself', async () => {
    expect(await workersIn([])).toEqual(['team_a']);
    await seed(t.dataSource, [
      { jsWorkerName: 'team_c', startTime: T0 + 1, result: 2 },
      { jsWorkerName: 'other', startTime: T0 + 2, result: 3 },
    ]);
    const { body } = await rpc(t.app, call('js-result_delete', queryParams(teamToken, [])));
    expect(body.result).toEqual({ success: true, deleted: 2, condition_count: 0 });
    expect(await countRows(t.dataSource)).toBe(1);
  });
});
