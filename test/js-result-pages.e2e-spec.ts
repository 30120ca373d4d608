import fc from 'fast-check';
import { T0, toModelRow, variedRows } from './support/fixtures';
import { type ModelLimit, modelSelect, type ModelRow, newestFirst } from './support/js-result.model';
import { rpcOver, startServer } from './support/processes';
import { createPostgresDatabase, LOCAL_POSTGRES_URL, postgresReachable, backendName } from './support/test-database';
import { allIds, call, queryParams, rpc, seed, type SeedRow, startTestApp, type TestApp } from './support/test-app';

const ALL_FIELDS = ['id', 'js_worker_id', 'js_worker_name', 'run_type', 'start_time', 'finish_time', 'param', 'result', 'error_message'];
const readOnly = (pattern: string): ModelLimit[] => [{ scopes: [{ js_worker: pattern }], permissions: [{ js_result: { read: pattern } }] }];

// Few workers and few distinct start times (NULL included), so pages often end inside a run of equal start times.
const worker = fc.constantFrom('a_1', 'a_2', 'b_1');
const startTime = fc.option(fc.integer({ min: 0, max: 4 }).map((s) => T0 + s * 1000), { nil: null, freq: 4 });
const newRow = fc.record({ jsWorkerName: worker, startTime, state: fc.constantFrom('success', 'failure', 'running') });
const walkCondition = fc.constantFrom<unknown[]>([], ['is_success'], [{ js_worker_name: 'a_1' }], [{ start_time_from: T0 + 1000 }], ['is_running']);

function asSeed(row: { jsWorkerName: string; startTime: number | null; state: string }): SeedRow {
  return {
    jsWorkerName: row.jsWorkerName,
    startTime: row.startTime,
    result: row.state === 'success' ? { ok: true } : null,
    errorMessage: row.state === 'failure' ? 'boom' : null,
  };
}

/** `js-result_count`, `js-result_page` and `fields`: LIFECYCLE.md, over HTTP on the backend under test. */
describe(`counts, pages and fields (${backendName})`, () => {
  let t: TestApp;
  let stored: ModelRow[];

  beforeAll(async () => {
    t = await startTestApp();
  });

  afterAll(async () => t.close());

  async function reseed(rows: SeedRow[]): Promise<ModelRow[]> {
    await t.dataSource.query('DELETE FROM js_result');
    return (await seed(t.dataSource, rows)).map(toModelRow);
  }

  const page = (token: string, params: Record<string, unknown>) => rpc(t.app, call('js-result_page', { token, ...params }));

  /** Every page of a walk, following next_cursor to the end. */
  async function walk(token: string, condition: unknown[], pageSize: number, fields?: string[]): Promise<{ items: any[]; pages: number }> {
    const items: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const reply = await page(token, { query: { condition }, cursor, page_size: pageSize, fields });
      expect(reply.body.error).toBeUndefined();
      items.push(...reply.body.result.items);
      cursor = reply.body.result.next_cursor;
      pages++;
    } while (cursor !== null);
    return { items, pages };
  }

  describe('js-result_count', () => {
    beforeAll(async () => {
      stored = await reseed(variedRows());
    });

    it.each([
      ['everything', []],
      ['one worker', [{ js_worker_name: 'demo_worker' }]],
      ['failures since a time', ['is_failure', { start_time_from: T0 + 5_000 }]],
      ['a limit below the matches', [{ js_worker_name: 'w_1' }, { limit: 3 }]],
      ['last', ['is_running', 'last']],
    ])('counts %s exactly as a delete would select', async (_label, condition) => {
      const expected = modelSelect(stored, condition, undefined, 'read', undefined) as ModelRow[];
      const reply = await rpc(t.app, call('js-result_count', queryParams(t.superToken, condition)));
      expect(reply.body.result).toEqual({ count: expected.length });
    });

    it('has no default cap: beyond the 1000 a query returns', async () => {
      await t.dataSource.query(
        `INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time) SELECT 1, 'bulk', 'call', g FROM generate_series(1, 1500) g`,
      );
      try {
        expect((await rpc(t.app, call('js-result_count', queryParams(t.superToken, [{ js_worker_name: 'bulk' }])))).body.result).toEqual({ count: 1500 });
      } finally {
        await t.dataSource.query(`DELETE FROM js_result WHERE js_worker_name = 'bulk'`);
      }
    });

    it('narrows a token to the workers it may read, refuses a named worker it may not (102), and needs read, not delete', async () => {
      const reader = await t.token(readOnly('demo_*'));
      const expected = modelSelect(stored, [], readOnly('demo_*'), 'read', undefined) as ModelRow[];
      expect(expected.length).toBeGreaterThan(0);
      expect((await rpc(t.app, call('js-result_count', queryParams(reader, [])))).body.result).toEqual({ count: expected.length });
      expect((await rpc(t.app, call('js-result_count', queryParams(reader, [{ js_worker_name: 'prod_api' }])))).body.error.code).toBe(102);
      const deleter = await t.token([{ scopes: ['global'], permissions: [{ js_result: { delete: '*' } }] }]);
      expect((await rpc(t.app, call('js-result_count', queryParams(deleter, [])))).body.result).toEqual({ count: 0 });
    });

    it('takes params by position, and checks params before credentials', async () => {
      expect((await rpc(t.app, call('js-result_count', [t.superToken, { condition: ['is_failure'] }]))).body.result.count).toBe(
        stored.filter((r) => r.error_message !== null).length,
      );
      const bad = await rpc(t.app, call('js-result_count', { token: 'garbage', query: { condition: [{ limit: -1 }] } }));
      expect(bad.body.error).toEqual({ code: -32602, message: 'Invalid params: query.condition[0].limit: expected an unsigned integer, got -1', data: { path: 'query.condition[0].limit' } });
    });

    it('agrees with the model for random tables, tokens and conditions', async () => {
      const pattern = fc.constantFrom('a_*', 'a_1', 'b*', '*');
      const conditions = fc.array(
        fc.oneof(walkCondition.map((c) => c[0] ?? 'is_failure'), fc.integer({ min: 0, max: 5 }).map((n) => ({ limit: n })), fc.constant('last')),
        { maxLength: 3 },
      );
      await fc.assert(
        fc.asyncProperty(fc.array(newRow, { maxLength: 12 }), fc.option(pattern, { nil: undefined }), conditions, async (rows, grant, condition) => {
          const table = await reseed(rows.map(asSeed));
          const limits = grant === undefined ? undefined : readOnly(grant);
          const token = limits === undefined ? t.superToken : await t.token(limits);
          const expected = modelSelect(table, condition, limits, 'read', undefined);
          const reply = await rpc(t.app, call('js-result_count', queryParams(token, condition)));
          if (expected === 'denied') expect(reply.body.error.code).toBe(102);
          else expect(reply.body.result).toEqual({ count: expected.length });
        }),
        { numRuns: 25 },
      );
    });
  });

  describe('js-result_page', () => {
    beforeAll(async () => {
      stored = await reseed(variedRows());
    });

    it('walks every match newest first, once each, in pages of page_size, and ends with next_cursor null', async () => {
      const expected = modelSelect(stored, [], undefined, 'read', undefined) as ModelRow[];
      const { items, pages } = await walk(t.superToken, [], 10);
      expect(items).toEqual(expected);
      // One more row than the page is read, so a walk ending on a full page needs no empty page after it.
      expect(pages).toBe(Math.ceil(expected.length / 10));
      expect(Object.keys(items[0])).toEqual(ALL_FIELDS);
    });

    it('defaults page_size to 1000, takes up to 10000, and refuses other sizes (-32602)', async () => {
      expect((await page(t.superToken, { query: { condition: [] } })).body.result.items).toHaveLength(stored.length);
      for (const size of [0, 10_001, 2.5, '10']) {
        const reply = await page(t.superToken, { query: { condition: [] }, page_size: size });
        expect(reply.body.error).toEqual({ code: -32602, message: expect.stringMatching(/^Invalid params: page_size: expected an integer from 1 to 10000, got /), data: { path: 'page_size' } });
      }
      expect((await page(t.superToken, { query: { condition: [] }, page_size: 10_000 })).body.result.next_cursor).toBeNull();
    });

    it('refuses limit and last in the conditions, naming their position (-32602)', async () => {
      for (const [condition, at] of [[['is_success', { limit: 5 }], 1], [['last'], 0]] as const) {
        const reply = await page(t.superToken, { query: { condition } });
        expect(reply.body.error.code).toBe(-32602);
        expect(reply.body.error.message).toContain(`query.condition[${at}]: limit and last are not allowed in js-result_page`);
      }
    });

    it('narrows a restricted token, and refuses a named worker it may not read (102)', async () => {
      const reader = await t.token(readOnly('demo_*'));
      const expected = (modelSelect(stored, [], readOnly('demo_*'), 'read', undefined) as ModelRow[]).map((r) => r.id);
      expect((await walk(reader, [], 7)).items.map((r) => r.id)).toEqual(expected);
      expect((await page(reader, { query: { condition: [{ js_worker_name: 'prod_api' }] } })).body.error.code).toBe(102);
    });

    it('refuses every single-byte change to a cursor, and a cursor of another token or other conditions (-32602)', async () => {
      const first = (await page(t.superToken, { query: { condition: ['is_success'] }, page_size: 3 })).body.result;
      const cursor: string = first.next_cursor;
      expect(typeof cursor).toBe('string');
      const again = (await page(t.superToken, { query: { condition: ['is_success'] }, page_size: 3, cursor })).body;
      expect(again.result.items.length).toBeGreaterThan(0);

      const refused = (reply: { body: any }) => {
        expect(reply.body.error?.code).toBe(-32602);
        expect(reply.body.error.message).toMatch(/^Invalid params: cursor: /);
      };
      // Every position, each changed to a character that is valid in a cursor and one that is not.
      const variants = [...cursor].flatMap((char, i) =>
        [char === 'A' ? 'B' : 'A', '%'].map((other) => cursor.slice(0, i) + other + cursor.slice(i + 1)),
      );
      const replies = await Promise.all(variants.map((v) => page(t.superToken, { query: { condition: ['is_success'] }, page_size: 3, cursor: v })));
      replies.forEach(refused);
      refused(await page(t.superToken, { query: { condition: ['is_success'] }, cursor: cursor.slice(0, -1) }));
      refused(await page(t.superToken, { query: { condition: ['is_success'] }, cursor: `${cursor}A` }));
      refused(await page(t.superToken, { query: { condition: ['is_failure'] }, cursor }));
      refused(await page(await t.token(readOnly('*')), { query: { condition: ['is_success'] }, cursor }));
      const notAString = await page(t.superToken, { query: { condition: [] }, cursor: 42 });
      expect(notAString.body.error).toEqual({ code: -32602, message: 'Invalid params: cursor: expected the next_cursor string of the previous page, or null, got 42', data: { path: 'cursor' } });
    });

    it('costs no skip and no repeat when rows are inserted and deleted between pages (model, random walks)', async () => {
      const change = fc.record({ inserts: fc.array(newRow, { maxLength: 3 }), deletes: fc.array(fc.nat(), { maxLength: 2 }) });
      await fc.assert(
        fc.asyncProperty(
          fc.array(newRow, { maxLength: 14 }),
          walkCondition,
          fc.integer({ min: 1, max: 4 }),
          fc.array(change, { minLength: 6, maxLength: 6 }),
          async (rows, condition, pageSize, changes) => {
            const initial = await reseed(rows.map(asSeed));
            const seen: any[] = [];
            const deleted = new Set<number>();
            let cursor: string | null = null;
            let step = 0;
            do {
              const reply = await page(t.superToken, { query: { condition }, cursor, page_size: pageSize, fields: ['id', 'start_time'] });
              expect(reply.body.error).toBeUndefined();
              expect(reply.body.result.items.length).toBeLessThanOrEqual(pageSize);
              seen.push(...reply.body.result.items);
              cursor = reply.body.result.next_cursor;
              const { inserts, deletes } = changes[step++ % changes.length];
              if (inserts.length > 0) await seed(t.dataSource, inserts.map(asSeed));
              const present = await allIds(t.dataSource);
              for (const index of deletes) {
                if (present.length === 0) break;
                const id = present[index % present.length];
                await t.dataSource.query('DELETE FROM js_result WHERE id = $1', [id]);
                deleted.add(id);
              }
            } while (cursor !== null && step < 60);
            expect(cursor).toBeNull();

            const ids = seen.map((r) => r.id);
            expect(new Set(ids).size).toBe(ids.length);
            const survivors = (modelSelect(initial, condition, undefined, 'read', undefined) as ModelRow[]).filter((r) => !deleted.has(r.id));
            expect(ids).toEqual(expect.arrayContaining(survivors.map((r) => r.id)));
            // What existed from the start comes in the walk's order.
            const fromStart = seen.filter((r) => survivors.some((s) => s.id === r.id));
            expect(fromStart.map((r) => r.id)).toEqual([...survivors].sort(newestFirst).map((r) => r.id));
          },
        ),
        { numRuns: 30 },
      );
    });
  });

  describe('fields', () => {
    beforeAll(async () => {
      stored = await reseed(variedRows());
    });

    it('gives each record exactly the fields asked for, in that order, on query and page', async () => {
      const fields = ['result', 'id', 'js_worker_name'];
      const queried = (await rpc(t.app, call('js-result_query', { token: t.superToken, query: { condition: [{ limit: 5 }] }, fields }))).body.result;
      const paged = (await page(t.superToken, { query: { condition: [] }, page_size: 5, fields })).body.result.items;
      const expected = (modelSelect(stored, [{ limit: 5 }], undefined, 'read') as ModelRow[]).map((r) => ({ result: r.result, id: r.id, js_worker_name: r.js_worker_name }));
      for (const records of [queried, paged]) {
        expect(records).toEqual(expected);
        for (const record of records) expect(Object.keys(record)).toEqual(fields);
      }
      const positional = (await rpc(t.app, call('js-result_query', [t.superToken, { condition: [{ limit: 1 }] }, ['id']]))).body.result;
      expect(positional).toEqual([{ id: expected[1 - 1].id }]);
    });

    it('projects large reads too (above the default cap, assembled by the database)', async () => {
      await t.dataSource.query(
        `INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time, param) SELECT 1, 'bulk', 'call', g, '{"big": true}' FROM generate_series(1, 1200) g`,
      );
      try {
        const records = (await rpc(t.app, call('js-result_query', { token: t.superToken, query: { condition: [{ js_worker_name: 'bulk' }, { limit: 1100 }] }, fields: ['start_time', 'run_type'] }))).body.result;
        expect(records).toHaveLength(1100);
        expect(records[0]).toEqual({ start_time: 1200, run_type: 'call' });
        expect(records.every((r: object) => Object.keys(r).join() === 'start_time,run_type')).toBe(true);
      } finally {
        await t.dataSource.query(`DELETE FROM js_result WHERE js_worker_name = 'bulk'`);
      }
    });

    it('without fields the records stay whole, as NodeGet clients get them', async () => {
      const [record] = (await rpc(t.app, call('js-result_query', queryParams(t.superToken, [{ limit: 1 }])))).body.result;
      expect(Object.keys(record)).toEqual(ALL_FIELDS);
    });

    it.each([
      ['an empty list', [], /^Invalid params: fields: expected a non-empty array of distinct record fields/],
      ['not a list', 'id', /^Invalid params: fields: expected a non-empty array/],
      ['an unknown name', ['id', 'secret'], /^Invalid params: fields\[1\]: expected one of id, js_worker_id/],
      ['a repeated name', ['id', 'result', 'id'], /^Invalid params: fields\[2\]: "id" is repeated$/],
    ])('refuses %s (-32602), before credentials', async (_label, fields, message) => {
      for (const method of ['js-result_query', 'js-result_page']) {
        const reply = await rpc(t.app, call(method, { token: 'garbage', query: { condition: [] }, fields }));
        expect(reply.body.error.code).toBe(-32602);
        expect(reply.body.error.message).toMatch(message);
      }
    });
  });
});

describe('page cursors across instances (postgres, two processes)', () => {
  it('a cursor issued by one instance is accepted by another, and the walk goes on where it stopped', async () => {
    if (!(await postgresReachable())) return console.warn(`skipped: no PostgreSQL server at ${LOCAL_POSTGRES_URL}`);
    const database = await createPostgresDatabase(LOCAL_POSTGRES_URL);
    const env = { DATABASE_URL: (database.target as { url: string }).url };
    const a = await startServer(env);
    const b = await startServer(env);
    try {
      const superToken = a.output().match(/^[A-Za-z0-9]{16}:[A-Za-z0-9]{32}$/m)![0];
      const { Client } = await import('pg');
      const client = new Client({ connectionString: env.DATABASE_URL });
      await client.connect();
      await client.query(`INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time) SELECT 1, 'w', 'call', g FROM generate_series(1, 5) g`);
      await client.end();
      const first = (await rpcOver(a.port, 'js-result_page', { token: superToken, query: { condition: [] }, page_size: 3, fields: ['start_time'] })).result;
      const rest = (await rpcOver(b.port, 'js-result_page', { token: superToken, query: { condition: [] }, page_size: 3, fields: ['start_time'], cursor: first.next_cursor })).result;
      expect([...first.items, ...rest.items].map((r: { start_time: number }) => r.start_time)).toEqual([5, 4, 3, 2, 1]);
      expect(rest.next_cursor).toBeNull();
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await database.drop();
    }
  });
});
