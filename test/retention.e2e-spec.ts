import fc from 'fast-check';
import { Client } from 'pg';
import { MIN_ID } from '../src/js-result/row-key';
import { deleteBatch } from '../src/retention/retention.statements';
import { RetentionSweeper } from '../src/retention/retention.sweeper';
import { T0 } from './support/fixtures';
import { modelPatternMatches, newestFirst, type ModelRow } from './support/js-result.model';
import { call, rpc, seed, type SeedRow, startTestApp, type TestApp } from './support/test-app';
import { backendName, createTestDatabase, serverUrl } from './support/test-database';

const DAY_MS = 86_400_000;
const NOW = T0 + 400 * DAY_MS;

const limit = (scopes: unknown[], permissions: unknown[]) => ({ scopes, permissions });
const del = (pattern: string) => ({ js_result: { delete: pattern } });
const read = (pattern: string) => ({ js_result: { read: pattern } });

type Outcome = 'any' | 'success' | 'failure';
type State = 'success' | 'failure' | 'running';

interface Policy {
  js_worker: string;
  keep_days: number | null;
  keep_last: number | null;
  outcome: Outcome;
}

/** A result row in one of the three states (JSRESULT.md §1). */
const row = (jsWorkerName: string, startTime: number | null, state: State): SeedRow => ({
  jsWorkerName,
  startTime,
  finishTime: state === 'running' || startTime === null ? null : startTime + 1,
  result: state === 'success' ? { ok: true } : null,
  errorMessage: state === 'failure' ? 'boom' : null,
});

const stateOf = (r: ModelRow): State => (r.error_message !== null ? 'failure' : r.result !== null ? 'success' : 'running');
const outcomeHolds = (outcome: Outcome, r: ModelRow) => stateOf(r) !== 'running' && (outcome === 'any' || outcome === stateOf(r));

/**
 * The contract (LIFECYCLE.md, Retention), read plainly: a finished row goes
 * when a policy matching its worker and outcome finds it older than keep_days
 * or beyond the newest keep_last of its worker in that outcome. Running rows
 * have no outcome: never expired, never ranked.
 */
function modelExpired(rows: ModelRow[], policies: Policy[], now: number): Set<number> {
  const expired = new Set<number>();
  for (const r of rows) {
    for (const p of policies) {
      if (!modelPatternMatches(p.js_worker, r.js_worker_name) || !outcomeHolds(p.outcome, r)) continue;
      const old = p.keep_days !== null && r.start_time !== null && now - p.keep_days * DAY_MS > r.start_time;
      const ranked = rows.filter((o) => o.js_worker_name === r.js_worker_name && outcomeHolds(p.outcome, o)).sort(newestFirst);
      const beyond = p.keep_last !== null && ranked.indexOf(r) >= p.keep_last;
      if (old || beyond) expired.add(r.id);
    }
  }
  return expired;
}

// Two workers (one with a literal `*`), so policies often share a worker and their ranks interact.
const names = ['a', 'a*b'];
const pattern = fc.constantFrom(...names, 'a*', 'a*b*', '*', 'b*');
// Whole days back from NOW, give or take a millisecond: keep_days cut-offs fall on, just before and just after rows.
const start = fc.option(
  fc.tuple(fc.integer({ min: 0, max: 4 }), fc.constantFrom(-1, 0, 1)).map(([days, off]) => NOW - days * DAY_MS + off),
  { nil: null, freq: 5 },
);
type TableRow = [string, number | null, State];
const tableRow: fc.Arbitrary<TableRow> = fc.tuple(fc.constantFrom(...names), start, fc.constantFrom<State>('success', 'failure', 'success', 'failure', 'running'));
const policy: fc.Arbitrary<Policy> = fc
  .record({
    js_worker: pattern,
    // Mostly without keep_days, which beside a keep_last would expire most rows either way and hide how ranks interact.
    keep_days: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 3 }) }),
    keep_last: fc.option(fc.integer({ min: 1, max: 4 }), { nil: null, freq: 3 }),
    outcome: fc.constantFrom<Outcome>('any', 'success', 'failure'),
  })
  .filter((p) => p.keep_days !== null || p.keep_last !== null);
// Batches of 1 to 3 rows: a sweep of these small tables still resumes from keys many times.
const batchSize = fc.integer({ min: 1, max: 3 });

describe(`retention (${backendName})`, () => {
  let t: TestApp;
  let sweeper: RetentionSweeper;

  const send = async (method: string, params: unknown) => (await rpc(t.app, call(method, params))).body;

  async function succeed(method: string, params: unknown): Promise<any> {
    const body = await send(method, params);
    if (body.error) throw new Error(`${method} refused: ${JSON.stringify(body.error)}`);
    return body.result;
  }

  const setPolicy = (params: Record<string, unknown>) => succeed('js-result_retention_set', { token: t.superToken, ...params });

  /** The whole policy table, for "a refusal changes nothing". */
  const storedPolicies = (): Promise<unknown[]> => t.dataSource.query('SELECT * FROM js_result_retention ORDER BY id');

  async function lastAuditId(): Promise<number> {
    const [{ id }] = await t.dataSource.query('SELECT coalesce(max(id), 0)::text AS id FROM audit_log');
    return Number(id);
  }

  async function auditAfter(id: number, method: string): Promise<{ origin: string; token_key: string | null; params: any; affected: number }[]> {
    const rows: any[] = await t.dataSource.query('SELECT * FROM audit_log WHERE id > $1 AND method = $2 ORDER BY id', [id, method]);
    return rows.map((r) => ({
      origin: r.origin,
      token_key: r.token_key,
      params: typeof r.params === 'string' ? JSON.parse(r.params) : r.params,
      affected: Number(r.affected),
    }));
  }

  async function remainingIds(): Promise<number[]> {
    const rows: { id: string }[] = await t.dataSource.query('SELECT id::text AS id FROM js_result r ORDER BY r.id');
    return rows.map((r) => Number(r.id));
  }

  async function reset(): Promise<void> {
    await t.dataSource.query('DELETE FROM js_result_retention');
    await t.dataSource.query('DELETE FROM js_result');
    await t.dataSource.query('DELETE FROM js_result_retention_sweep');
  }

  const idsOf = (rows: { id: number }[]) => rows.map((r) => r.id);

  beforeAll(async () => {
    t = await startTestApp({ tokenCacheTtlMs: 0 });
    sweeper = t.app.get(RetentionSweeper);
  });

  afterAll(() => t?.close());

  beforeEach(reset);

  describe('js-result_retention_set', () => {
    it('stores a policy and answers it, outcome "any" and absent bounds by default', async () => {
      const policy = await setPolicy({ js_worker: 'ret_*', keep_days: 30 });
      expect(policy).toEqual({ id: expect.any(Number), js_worker: 'ret_*', keep_days: 30, keep_last: null, outcome: 'any' });
      const listed = await succeed('js-result_retention_list', { token: t.superToken });
      expect(listed).toEqual({ policies: [policy] });
    });

    it('takes params by position: token, js_worker, keep_days, keep_last, outcome', async () => {
      const policy = await succeed('js-result_retention_set', [t.superToken, 'ret_a', null, 5, 'failure']);
      expect(policy).toEqual({ id: expect.any(Number), js_worker: 'ret_a', keep_days: null, keep_last: 5, outcome: 'failure' });
    });

    it('replaces the policy of the same pattern and outcome, keeping its id; another outcome is another policy', async () => {
      const first = await setPolicy({ js_worker: 'ret_a', keep_days: 30, keep_last: 10 });
      const replaced = await setPolicy({ js_worker: 'ret_a', keep_last: 3 });
      expect(replaced).toEqual({ id: first.id, js_worker: 'ret_a', keep_days: null, keep_last: 3, outcome: 'any' });
      const failures = await setPolicy({ js_worker: 'ret_a', keep_days: 1, outcome: 'failure' });
      expect(failures.id).not.toBe(first.id);
      expect((await succeed('js-result_retention_list', [t.superToken])).policies).toEqual([replaced, failures]);
    });

    it('records the change in the audit log under the caller, credential hidden', async () => {
      const before = await lastAuditId();
      await setPolicy({ js_worker: 'ret_a', keep_days: 2 });
      const [entry, ...rest] = await auditAfter(before, 'js-result_retention_set');
      expect(rest).toEqual([]);
      expect(entry).toEqual({
        origin: 'rpc',
        token_key: t.superToken.split(':')[0],
        params: { token: '***', js_worker: 'ret_a', keep_days: 2 },
        affected: 1,
      });
    });

    const invalid: [string, unknown, RegExp][] = [
      ['js_worker missing', { keep_days: 1 }, /^Invalid params: js_worker: expected/],
      ['js_worker a number', { js_worker: 5, keep_days: 1 }, /^Invalid params: js_worker: expected/],
      ['keep_days a string', { js_worker: 'a', keep_days: '3' }, /^Invalid params: keep_days: expected an integer/],
      ['keep_days a fraction', { js_worker: 'a', keep_days: 1.5 }, /^Invalid params: keep_days: expected an integer/],
      ['keep_last a boolean', { js_worker: 'a', keep_last: true }, /^Invalid params: keep_last: expected an integer/],
      ['outcome unknown', { js_worker: 'a', keep_days: 1, outcome: 'sometimes' }, /^Invalid params: outcome: expected "any", "success" or "failure"/],
      ['outcome not a string', { js_worker: 'a', keep_days: 1, outcome: 1 }, /^Invalid params: outcome: expected/],
      ['token missing', { js_worker: 'a', keep_days: 1, token: undefined }, /^Invalid params: token: expected/],
    ];
    it.each(invalid)('refuses %s with -32602 and changes nothing', async (_what, params, message) => {
      await setPolicy({ js_worker: 'kept', keep_days: 9 });
      const before = await storedPolicies();
      const body = await send('js-result_retention_set', { token: t.superToken, ...(params as object) });
      expect(body.error).toEqual({ code: -32602, message: expect.stringMatching(message), data: { path: expect.any(String) } });
      expect(await storedPolicies()).toEqual(before);
    });

    it('checks params before the token, and refuses a sixth positional param', async () => {
      expect((await send('js-result_retention_set', { token: 'nope', js_worker: 5 })).error.code).toBe(-32602);
      expect((await send('js-result_retention_set', [t.superToken, 'a', 1, null, 'any', 'extra'])).error.code).toBe(-32602);
      expect(await storedPolicies()).toEqual([]);
    });

    const unacceptable: [string, Record<string, unknown>, RegExp][] = [
      ['neither keep_days nor keep_last', { js_worker: 'a' }, /keep_days, keep_last or both/],
      ['both null', { js_worker: 'a', keep_days: null, keep_last: null }, /keep_days, keep_last or both/],
      ['keep_days 0', { js_worker: 'a', keep_days: 0 }, /keep_days: must be from 1 to 36500, got 0/],
      ['keep_days 36501', { js_worker: 'a', keep_days: 36_501 }, /keep_days: must be from 1 to 36500/],
      ['keep_last -1', { js_worker: 'a', keep_last: -1 }, /keep_last: must be from 1 to 10000000/],
      ['keep_last 10000001', { js_worker: 'a', keep_last: 10_000_001 }, /keep_last: must be from 1 to 10000000/],
      ['an empty pattern', { js_worker: '', keep_days: 1 }, /js_worker: must be 1 to 256 characters, got 0/],
      ['a pattern of 257 characters', { js_worker: 'a'.repeat(257), keep_days: 1 }, /js_worker: must be 1 to 256 characters/],
    ];
    it.each(unacceptable)('refuses %s with 108 and changes nothing', async (_what, params, message) => {
      await setPolicy({ js_worker: 'kept', keep_days: 9 });
      const before = await storedPolicies();
      const body = await send('js-result_retention_set', { token: t.superToken, ...params });
      expect(body.error).toEqual({ code: 108, message: expect.stringMatching(/^Invalid input: /) });
      expect(body.error.message).toMatch(message);
      expect(await storedPolicies()).toEqual(before);
    });

    it('refuses a keep_days beyond 64 bits as out of range (108)', async () => {
      const body = await rpc(t.app, `{"jsonrpc":"2.0","id":1,"method":"js-result_retention_set","params":{"token":"${t.superToken}","js_worker":"a","keep_days":18446744073709551616}}`);
      expect(body.body.error.code).toBe(108);
      expect(await storedPolicies()).toEqual([]);
    });

    it('refuses a malformed token (101) and wrong credentials (102)', async () => {
      expect((await send('js-result_retention_set', { token: 'nope', js_worker: 'a', keep_days: 1 })).error.code).toBe(101);
      const wrong = `${t.superToken.split(':')[0]}:wrongsecret`;
      expect((await send('js-result_retention_set', { token: wrong, js_worker: 'a', keep_days: 1 })).error.code).toBe(102);
      expect(await storedPolicies()).toEqual([]);
    });

    it('needs delete permission covering the whole pattern (102 otherwise, nothing stored)', async () => {
      const token = await t.token([
        limit([{ js_worker: 'ret_*' }], [del('ret_*'), read('*')]),
        limit(['global'], [del('solo')]),
        limit([{ js_worker: 'other_*' }], [del('x_*')]),
        limit([{ js_worker: 'x_*' }], [del('other_*')]),
      ]);
      const set = (js_worker: string) => send('js-result_retention_set', { token, js_worker, keep_days: 1 });
      for (const allowed of ['ret_*', 'ret_a*', 'ret_a', 'solo']) expect((await set(allowed)).result?.js_worker).toBe(allowed);
      const before = await storedPolicies();
      for (const refused of ['*', 're*', 'ret', 'solo*', 'other_a', 'x_a', 'anything']) {
        const { error } = await set(refused);
        expect({ refused, error }).toEqual({
          refused,
          error: { code: 102, message: `Permission denied: Permission denied for js_result on worker '${refused}', action: Delete` },
        });
      }
      expect(await storedPolicies()).toEqual(before);
    });
  });

  describe('js-result_retention_list', () => {
    it('shows a token only the policies whose whole pattern it may read', async () => {
      const all = [];
      for (const js_worker of ['ret_*', 'ret_a', 'ret_a*', 'other', 'r*', '*']) all.push(await setPolicy({ js_worker, keep_days: 1 }));
      const token = await t.token([limit([{ js_worker: 'ret_*' }], [read('ret_*')]), limit(['global'], [del('*')])]);
      const { policies } = await succeed('js-result_retention_list', { token });
      expect(policies.map((p: any) => p.js_worker)).toEqual(['ret_*', 'ret_a', 'ret_a*']);
      expect((await succeed('js-result_retention_list', [t.superToken])).policies).toEqual(all);
      expect((await succeed('js-result_retention_list', { token: await t.token([]) })).policies).toEqual([]);
    });

    it('refuses a token of the wrong form (-32602), a malformed one (101) and wrong credentials (102)', async () => {
      expect((await send('js-result_retention_list', { token: 5 })).error.code).toBe(-32602);
      expect((await send('js-result_retention_list', [t.superToken, 'extra'])).error.code).toBe(-32602);
      expect((await send('js-result_retention_list', { token: 'nope' })).error.code).toBe(101);
      expect((await send('js-result_retention_list', { token: 'a:b' })).error.code).toBe(102);
    });
  });

  describe('js-result_retention_delete', () => {
    it('deletes a policy, by name and by position, and records it', async () => {
      const a = await setPolicy({ js_worker: 'ret_a', keep_days: 1 });
      const b = await setPolicy({ js_worker: 'ret_b', keep_days: 1 });
      const before = await lastAuditId();
      expect(await succeed('js-result_retention_delete', { token: t.superToken, id: a.id })).toEqual({ success: true });
      expect(await succeed('js-result_retention_delete', [t.superToken, b.id])).toEqual({ success: true });
      expect(await storedPolicies()).toEqual([]);
      expect((await auditAfter(before, 'js-result_retention_delete')).map((e) => [e.params.id, e.affected])).toEqual([[a.id, 1], [b.id, 1]]);
    });

    it('answers 105 for an unknown id and for a policy the token may not delete, which stays', async () => {
      const policy = await setPolicy({ js_worker: 'ret_*', keep_days: 1 });
      const reader = await t.token([limit(['global'], [read('*')])]);
      const narrower = await t.token([limit(['global'], [del('ret_a*')])]);
      const before = await storedPolicies();
      for (const [token, id] of [
        [t.superToken, policy.id + 1000],
        [t.superToken, -1],
        [t.superToken, 2n ** 70n],
        [reader, policy.id],
        [narrower, policy.id],
      ] as const) {
        const body = await rpc(t.app, `{"jsonrpc":"2.0","id":1,"method":"js-result_retention_delete","params":{"token":"${token}","id":${id}}}`);
        expect(body.body.error).toEqual({ code: 105, message: `Not found: Retention policy ${id} not found` });
      }
      // A double from 1e21 up: its own text is exponential, the id is named in digits.
      const huge = await rpc(t.app, `{"jsonrpc":"2.0","id":1,"method":"js-result_retention_delete","params":{"token":"${t.superToken}","id":1e21}}`);
      expect(huge.body.error).toEqual({ code: 105, message: 'Not found: Retention policy 1000000000000000000000 not found' });
      expect(await storedPolicies()).toEqual(before);
      const owner = await t.token([limit([{ js_worker: 'ret_*' }], [del('ret_*')])]);
      expect(await succeed('js-result_retention_delete', { token: owner, id: policy.id })).toEqual({ success: true });
      expect((await send('js-result_retention_delete', { token: owner, id: policy.id })).error.code).toBe(105);
    });

    it('refuses an id that is not an integer (-32602) before the token', async () => {
      const policy = await setPolicy({ js_worker: 'ret_a', keep_days: 1 });
      const before = await storedPolicies();
      for (const id of [String(policy.id), 1.5, null, undefined]) {
        const { error } = await send('js-result_retention_delete', { token: 'nope', id });
        expect(error).toEqual({ code: -32602, message: expect.stringMatching(/^Invalid params: id: expected a policy id/), data: { path: 'id' } });
      }
      expect(await storedPolicies()).toEqual(before);
    });
  });

  describe('sweeping', () => {
    it('deletes rows older than keep_days by start_time; never running or not-started rows', async () => {
      const cutoff = NOW - 10 * DAY_MS;
      const rows = await seed(t.dataSource, [
        row('ret_a', cutoff - 1, 'success'),
        row('ret_a', cutoff - 1, 'failure'),
        row('ret_a', cutoff - DAY_MS, 'running'),
        row('ret_a', cutoff, 'success'),
        row('ret_a', null, 'success'),
        row('ret_ab', cutoff - 5, 'success'),
        row('other', cutoff - 5, 'success'),
      ]);
      await setPolicy({ js_worker: 'ret_a', keep_days: 10 });
      expect(await sweeper.sweepOnce({ now: NOW })).toBe(2);
      expect(await remainingIds()).toEqual(idsOf(rows.slice(2)));
    });

    it('keeps the newest keep_last of each worker a prefix matches, ranked within the outcome', async () => {
      const rows = await seed(t.dataSource, [
        row('ret_a', T0 + 5, 'success'), // 0: newest success of ret_a
        row('ret_a', T0 + 4, 'failure'),
        row('ret_a', T0 + 3, 'success'), // 2: second success: goes
        row('ret_a', T0 + 9, 'running'), // running: never ranked, never goes
        row('ret_b', T0 + 1, 'success'), // 4: newest of ret_b
        row('ret_b', T0 + 1, 'success'), // 5: same time, higher id: newer, so 4 goes
        row('ret_b', null, 'failure'),
        row('xyz', T0, 'success'),
        row('xyz', T0 + 1, 'success'),
      ]);
      await setPolicy({ js_worker: 'ret_*', keep_last: 1, outcome: 'success' });
      expect(await sweeper.sweepOnce({ now: NOW })).toBe(2);
      expect(await remainingIds()).toEqual(idsOf([rows[0], rows[1], rows[3], rows[5], rows[6], rows[7], rows[8]]));
    });

    it('ranks not-started finished rows as the newest, and outcome "failure" leaves successes alone', async () => {
      const rows = await seed(t.dataSource, [
        row('ret_a', T0, 'failure'),
        row('ret_a', null, 'failure'),
        row('ret_a', null, 'failure'),
        row('ret_a', T0 - 10 * DAY_MS, 'success'),
      ]);
      await setPolicy({ js_worker: 'ret_a', keep_last: 1, keep_days: 1, outcome: 'failure' });
      expect(await sweeper.sweepOnce({ now: NOW })).toBe(2);
      expect(await remainingIds()).toEqual(idsOf([rows[2], rows[3]]));
    });

    it('decides what expires before deleting: one policy deleting rows spares nothing another expires', async () => {
      const rows = await seed(t.dataSource, [row('ret_a', T0 + 3, 'failure'), row('ret_a', T0 + 2, 'failure'), row('ret_a', T0 + 1, 'success')]);
      // Applied first, it deletes the older failure; the success was third newest, beyond keep_last 2, all the same.
      await setPolicy({ js_worker: 'ret_a', keep_last: 1, outcome: 'failure' });
      await setPolicy({ js_worker: 'ret_a', keep_last: 2 });
      expect(await sweeper.sweepOnce({ now: NOW })).toBe(2);
      expect(await remainingIds()).toEqual(idsOf([rows[0]]));
    });

    it('deletes in batches, and one sweep is one audit entry with the total and the policies that deleted', async () => {
      const old = Array.from({ length: 2_500 }, (_, i) => row('ret_big', T0 + i, i % 3 === 0 ? 'failure' : 'success'));
      const kept = await seed(t.dataSource, [row('ret_big', NOW, 'success'), row('ret_big', T0, 'running'), row('ret_small', T0, 'success')]);
      await seed(t.dataSource, old);
      const big = await setPolicy({ js_worker: 'ret_big', keep_days: 30 });
      await setPolicy({ js_worker: 'ret_small', keep_last: 5 });
      const before = await lastAuditId();
      expect(await sweeper.sweepOnce({ now: NOW })).toBe(2_500);
      expect(await remainingIds()).toEqual(idsOf(kept));
      expect(await auditAfter(before, 'retention')).toEqual([{ origin: 'server', token_key: null, params: { policies: [big.id] }, affected: 2_500 }]);
    });

    it('resumes from where each batch ended, also through not-started rows (batches of 2)', async () => {
      const rows = await seed(t.dataSource, [
        ...Array.from({ length: 5 }, () => row('ret_a', null, 'success')),
        ...Array.from({ length: 7 }, (_, i) => row('ret_a', T0 + (i % 3), 'failure')),
        row('ret_a', T0, 'running'),
      ]);
      await setPolicy({ js_worker: 'ret_a', keep_last: 3 });
      expect(await sweeper.sweepOnce({ now: NOW, batchSize: 2 })).toBe(9);
      expect(await remainingIds()).toEqual(idsOf([rows[2], rows[3], rows[4], rows[12]]));
    });

    it('a batch answers where it stopped: the oldest row it chose, where the next batch starts', async () => {
      const rows = await seed(t.dataSource, [row('ret_a', T0, 'success'), row('ret_a', T0 + 2, 'success'), row('ret_a', T0 + 1, 'success'), row('ret_a', T0 + 3, 'running')]);
      const rule = { policyId: 1, worker: 'ret_a', outcome: 'any' as const, after: { startTime: String(NOW), id: MIN_ID } };
      const { text, values } = deleteBatch(rule, 2);
      const [batch] = await t.dataSource.query(text, values);
      expect(batch).toEqual({ chosen: 2, deleted: 2, start_time: String(T0 + 1), id: String(rows[2].id) });
      expect(await remainingIds()).toEqual(idsOf([rows[0], rows[3]]));
    });

    it('writes no audit entry for a sweep that deleted nothing', async () => {
      await seed(t.dataSource, [row('ret_a', NOW, 'success')]);
      await setPolicy({ js_worker: 'ret_a', keep_days: 1, keep_last: 5 });
      const before = await lastAuditId();
      expect(await sweeper.sweepOnce({ now: NOW })).toBe(0);
      expect(await auditAfter(before, 'retention')).toEqual([]);
    });

    it('records the count a cut-short sweep left behind as its own entry, first', async () => {
      await t.dataSource.query(`INSERT INTO js_result_retention_sweep (id, deleted, policies) VALUES (1, 7, '[99]')`);
      await seed(t.dataSource, [row('ret_a', T0, 'success')]);
      const policy = await setPolicy({ js_worker: 'ret_a', keep_days: 1 });
      const before = await lastAuditId();
      expect(await sweeper.sweepOnce({ now: NOW })).toBe(1);
      expect((await auditAfter(before, 'retention')).map((e) => [e.params.policies, e.affected])).toEqual([[[99], 7], [[policy.id], 1]]);
      expect(await t.dataSource.query('SELECT * FROM js_result_retention_sweep')).toEqual([]);
    });

    it('two sweeps at once delete each expired row once, and record it once', async () => {
      const rows = await seed(t.dataSource, Array.from({ length: 300 }, (_, i) => row(`ret_${i % 3}`, T0 + i, 'success')));
      await setPolicy({ js_worker: 'ret_*', keep_last: 10 });
      const before = await lastAuditId();
      const [a, b] = await Promise.all([sweeper.sweepOnce({ now: NOW, batchSize: 7 }), sweeper.sweepOnce({ now: NOW, batchSize: 7 })]);
      // One waits for the other and finds nothing left.
      expect([a, b].sort((x, y) => x - y)).toEqual([0, 270]);
      expect(await remainingIds()).toEqual(idsOf(rows.slice(270)));
      expect((await auditAfter(before, 'retention')).map((e) => e.affected)).toEqual([270]);
    });

    it('runs by itself every RETENTION_SWEEP_INTERVAL_MS', async () => {
      const own = await startTestApp({ retentionSweepIntervalMs: 200 });
      try {
        const [old, fresh] = await seed(own.dataSource, [row('ret_a', Date.now() - 3 * DAY_MS, 'success'), row('ret_a', Date.now(), 'success')]);
        await rpc(own.app, call('js-result_retention_set', { token: own.superToken, js_worker: 'ret_a', keep_days: 2 }));
        const deadline = Date.now() + 10_000;
        let ids: number[];
        do {
          await new Promise((r) => setTimeout(r, 100));
          ids = (await own.dataSource.query('SELECT id::text AS id FROM js_result r ORDER BY r.id')).map((r: any) => Number(r.id));
        } while (ids.length > 1 && Date.now() < deadline);
        expect(ids).toEqual([fresh.id]);
        expect(ids).not.toContain(old.id);
      } finally {
        await own.close();
      }
    });

    /** Sets the policies, seeds the table, sweeps once, and holds the outcome to the model. */
    async function sweepMatchesModel(table: TableRow[], drawn: Policy[], batchSize: number): Promise<void> {
      await reset();
      // One policy per pattern and outcome, as the table allows: the last drawn wins, as a replace would.
      const policies = [...new Map(drawn.map((p) => [`${p.js_worker}|${p.outcome}`, p])).values()];
      for (const p of policies) await setPolicy({ ...p });
      const rows = (await seed(t.dataSource, table.map(([w, s, state]) => row(w, s, state)))).map(
        (r): ModelRow => ({
          id: r.id,
          js_worker_id: 1,
          js_worker_name: r.jsWorkerName,
          run_type: 'call',
          start_time: r.startTime,
          finish_time: r.finishTime,
          param: null,
          result: r.result ?? null,
          error_message: r.errorMessage,
        }),
      );
      const expired = modelExpired(rows, policies, NOW);
      const before = await lastAuditId();

      const deleted = await sweeper.sweepOnce({ now: NOW, batchSize });

      expect(await remainingIds()).toEqual(rows.filter((r) => !expired.has(r.id)).map((r) => r.id));
      expect(deleted).toBe(expired.size);
      const entries = await auditAfter(before, 'retention');
      expect(entries.map((e) => e.affected)).toEqual(expired.size > 0 ? [expired.size] : []);
      // A second sweep finds nothing left: the first left no expired row behind.
      expect(await sweeper.sweepOnce({ now: NOW, batchSize })).toBe(0);
    }

    it('matches the model for random tables and policies: what must go goes, the rest stays, running rows always', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(tableRow, { maxLength: 25 }), fc.array(policy, { maxLength: 4 }), batchSize, sweepMatchesModel),
        { numRuns: 100 },
      );
    });

    it('matches the model when keep_last policies of several outcomes share a worker (the order they were set in never matters)', async () => {
      const finishedRow = fc.tuple(fc.constant('a'), start, fc.constantFrom<State>('success', 'failure'));
      const rankPolicy = fc.record({
        js_worker: fc.constantFrom('a', 'a*', '*'),
        keep_days: fc.constant(null),
        keep_last: fc.integer({ min: 1, max: 4 }),
        outcome: fc.constantFrom<Outcome>('any', 'success', 'failure'),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(finishedRow, { minLength: 2, maxLength: 12 }), fc.array(rankPolicy, { minLength: 2, maxLength: 3 }), batchSize, sweepMatchesModel),
        { numRuns: 100 },
      );
    });

    (serverUrl ? describe : describe.skip)('several instances on one PostgreSQL database', () => {
      it('one sweeps at a time: another holding the lock means this one deletes nothing', async () => {
        await seed(t.dataSource, [row('ret_a', T0, 'success')]);
        await setPolicy({ js_worker: 'ret_a', keep_days: 1 });
        const url = (t.dataSource.options as { url: string }).url;
        const other = new Client({ connectionString: url });
        await other.connect();
        try {
          await other.query('SELECT pg_advisory_lock(727201146)');
          expect(await sweeper.sweepOnce({ now: NOW })).toBe(0);
          expect((await remainingIds()).length).toBe(1);
          await other.query('SELECT pg_advisory_unlock(727201146)');
          expect(await sweeper.sweepOnce({ now: NOW })).toBe(1);
        } finally {
          await other.end();
        }
      });

      it('two apps sweeping the same database at once delete each row once, in one entry per sweep that deleted', async () => {
        const database = await createTestDatabase();
        const first = await startTestApp({}, database);
        const second = await startTestApp({}, database);
        try {
          const rows = await seed(first.dataSource, Array.from({ length: 600 }, (_, i) => row(`ret_${i % 4}`, T0 + i, 'failure')));
          // The second start rolled the super token: the first's is void now.
          const set = await rpc(first.app, call('js-result_retention_set', { token: second.superToken, js_worker: 'ret_*', keep_last: 50 }));
          expect(set.body.error).toBeUndefined();
          const sweeps = [first, second].map((app) => app.app.get(RetentionSweeper).sweepOnce({ now: NOW, batchSize: 13 }));
          const counts = await Promise.all(sweeps);
          expect(counts[0] + counts[1]).toBe(400);
          const left: { id: string }[] = await first.dataSource.query('SELECT id::text AS id FROM js_result r ORDER BY r.id');
          expect(left.map((r) => Number(r.id))).toEqual(idsOf(rows.slice(400)));
          const entries: { affected: string }[] = await first.dataSource.query(`SELECT affected::text AS affected FROM audit_log WHERE method = 'retention'`);
          expect(entries.map((e) => Number(e.affected))).toEqual(counts.filter((c) => c > 0));
        } finally {
          await second.close();
          await first.close();
          await database.drop();
        }
      });
    });
  });
});
