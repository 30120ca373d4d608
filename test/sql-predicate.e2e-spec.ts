import fc from 'fast-check';
import type { JsResult } from '../src/js-result/js-result.entity';
import { modelSelect, type ModelRow } from './support/js-result.model';
import { call, queryParams, rpc, seed, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';
import { T0 } from './support/fixtures';

/**
 * Property: for random tokens, worker names and conditions, the rows the SQL
 * returns (and deletes) are exactly the rows the in-memory model of the
 * contract allows, in the same order.
 */
describe(`SQL predicate matches the contract model (${backendName})`, () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ tokenCacheTtlMs: 0 });
  });

  afterAll(() => t.close());

  // A small alphabet with LIKE metacharacters and `*`, so prefixes collide often.
  const name = fc.string({ unit: fc.constantFrom('a', 'b', '_', '%', '*', '\\'), minLength: 1, maxLength: 3 });
  // Prefix patterns often equal a whole worker name, or its first character: the edges of a prefix range.
  const pattern = fc.oneof(name, name.map((n) => `${n}*`), name.map((n) => `${n[0]}*`), fc.constant('*'));
  const scope = fc.oneof(fc.constant<unknown>('global'), pattern.map((p) => ({ js_worker: p })), fc.constant({ agent_uuid: '*' }));
  const permission = fc.oneof(
    pattern.map((p) => ({ js_result: { read: p } })),
    pattern.map((p) => ({ js_result: { delete: p } })),
    fc.constant({ kv: { read: '*' } }),
  );
  // Mostly non-empty limits: an empty token proves little beyond "nothing".
  const limits = fc.array(
    fc.record({ scopes: fc.array(scope, { minLength: 1, maxLength: 3 }), permissions: fc.array(permission, { minLength: 1, maxLength: 3 }) }),
    { minLength: 1, maxLength: 3 },
  );
  const row = fc.record({
    jsWorkerName: name,
    startTime: fc.option(fc.integer({ min: 0, max: 20 }).map((s) => T0 + s), { nil: null }),
    state: fc.constantFrom('success', 'failure', 'running'),
  });
  const condition = fc.oneof(
    fc.constantFrom<unknown>('is_success', 'is_failure', 'is_running', 'last'),
    fc.integer({ min: 0, max: 6 }).map((n) => ({ limit: n })),
    fc.integer({ min: 0, max: 20 }).map((s) => ({ start_time_from: T0 + s })),
    fc.integer({ min: 0, max: 20 }).map((s) => ({ start_time_to: T0 + s })),
  );
  const namedCondition = name.map((n) => ({ js_worker_name: n }));
  const conditions = fc.array(fc.oneof({ weight: 4, arbitrary: condition }, { weight: 1, arbitrary: namedCondition }), { maxLength: 3 });

  async function reset(rows: { jsWorkerName: string; startTime: number | null; state: string }[]): Promise<ModelRow[]> {
    await t.dataSource.query('DELETE FROM js_result');
    const saved = await seed(
      t.dataSource,
      rows.map((r) => ({
        jsWorkerName: r.jsWorkerName,
        startTime: r.startTime,
        result: r.state === 'success' ? { ok: 1 } : null,
        errorMessage: r.state === 'failure' ? 'e' : null,
      })),
    );
    return saved.map((r: JsResult) => ({
      id: r.id, js_worker_id: r.jsWorkerId, js_worker_name: r.jsWorkerName, run_type: r.runType,
      start_time: r.startTime, finish_time: r.finishTime, param: r.param ?? null, result: r.result ?? null, error_message: r.errorMessage,
    }));
  }

  it('query returns exactly the rows the model allows', async () => {
    await fc.assert(
      fc.asyncProperty(limits, fc.array(row, { maxLength: 25 }), conditions, async (rawLimits, rows, cond) => {
        const model = await reset(rows);
        const token = await t.token(rawLimits);
        const expected = modelSelect(model, cond, rawLimits, 'read');
        const { body } = await rpc(t.app, call('js-result_query', queryParams(token, cond)));
        if (expected === 'denied') expect(body.error.code).toBe(102);
        else expect(body.result).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });

  it('delete removes exactly the rows the model selects', async () => {
    await fc.assert(
      fc.asyncProperty(limits, fc.array(row, { maxLength: 25 }), conditions, async (rawLimits, rows, cond) => {
        const model = await reset(rows);
        const token = await t.token(rawLimits);
        const expected = modelSelect(model, cond, rawLimits, 'delete');
        const { body } = await rpc(t.app, call('js-result_delete', queryParams(token, cond)));
        const remaining: { id: string }[] = await t.dataSource.query('SELECT id FROM js_result ORDER BY id');
        if (expected === 'denied') {
          expect(body.error.code).toBe(102);
          expect(remaining).toHaveLength(model.length);
          return;
        }
        const gone = new Set(expected.map((r) => r.id));
        expect(body.result).toEqual({ success: true, deleted: expected.length, condition_count: cond.length });
        expect(remaining.map((r) => Number(r.id))).toEqual(model.filter((r) => !gone.has(r.id)).map((r) => r.id));
      }),
      { numRuns: 150 },
    );
  });
});
