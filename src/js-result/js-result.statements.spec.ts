import { operatorAction } from '../database/audited-change';
import fc from 'fast-check';
import type { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../test/support/test-database';
import { openDataSource } from '../database/data-source.factory';
import { PreparedStatements } from '../database/prepared-statements';
import type { WorkerAccess } from '../token/auth';
import type { Filter } from './conditions/condition.types';
import { JsResult } from './js-result.entity';
import { RowsStatements } from '../../test/support/rows-statements';
import { applyFilters, JsResultStatements, distinctNames, type Statement, valueShare, withheld } from './js-result.statements';

/** Deletes here are recorded as the operator's. */
const AUDIT = operatorAction('js-result_delete');

const ONE_OF_EACH: Filter[] = [
  { kind: 'id', value: 1n },
  { kind: 'js_worker_id', value: 2n },
  { kind: 'js_worker_name', value: 'w' },
  { kind: 'run_type', value: 'call' },
  { kind: 'start_time_from', value: 3n },
  { kind: 'start_time_to', value: 4n },
  { kind: 'finish_time_from', value: 5n },
  { kind: 'finish_time_to', value: 6n },
  { kind: 'is_success' },
  { kind: 'is_failure' },
  { kind: 'is_running' },
];

const ALL: WorkerAccess = { kind: 'all' };
const SOME: WorkerAccess = { kind: 'patterns', names: ['exact'], prefixes: ['pre'] };
const WORKERS = distinctNames(['a'], ['b', 'a']);
const FAILED_SINCE: Filter[] = [{ kind: 'is_failure' }, { kind: 'start_time_from', value: 100n }];

/** The value bound to each placeholder the pattern's first group captures, in text order. */
function valuesAt(statement: Statement, pattern: RegExp): unknown[] {
  return [...statement.text.matchAll(pattern)].map((match) => statement.values[Number(match[1]) - 1]);
}

function placeholders(text: string): number[] {
  return [...new Set([...text.matchAll(/\$(\d+)/g)].map((match) => Number(match[1])))].sort((a, b) => a - b);
}

describe(JsResultStatements.name, () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let registry: PreparedStatements;
  let sut: RowsStatements;

  beforeAll(async () => {
    database = await createTestDatabase();
    registry = new PreparedStatements();
    dataSource = await openDataSource({ database: database.target, poolSize: 2, statementTimeoutMs: 10_000 }, registry);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  beforeEach(() => {
    sut = new RowsStatements(dataSource, registry);
  });

  describe('writes one text per shape', () => {
    it('for each condition alone', () => {
      const texts = Object.fromEntries(ONE_OF_EACH.map((filter) => [filter.kind, sut.selectRows([filter], ALL, 10).text]));
      expect(texts).toMatchSnapshot();
    });

    it('for every condition together, and for none', () => {
      expect(sut.selectJson(ONE_OF_EACH, ALL, 10).text).toMatchSnapshot('all conditions');
      expect(sut.selectJson([], ALL, 10).text).toMatchSnapshot('no condition');
    });

    it.each([
      ['all', ALL],
      ['patterns', SOME],
      ['listed-names', WORKERS],
    ])('for reads in scope %s, as JSON and as rows', (_kind, scope) => {
      expect(sut.selectJson(FAILED_SINCE, scope, 10).text).toMatchSnapshot('json');
      expect(sut.selectRows(FAILED_SINCE, scope, 10).text).toMatchSnapshot('rows');
      expect(sut.selectTextRows(FAILED_SINCE, scope, 10).text).toMatchSnapshot('rows, json as text');
    });

    it('for a page assembled by the database, and a projected text read (only the gated columns it has)', () => {
      expect(sut.pageJson(FAILED_SINCE, SOME, { startTime: '5', id: '6' }, 11, undefined, 100).text).toMatchSnapshot('page json');
      expect(sut.selectTextRows([], ALL, 10, ['id', 'result']).text).toMatchSnapshot('text, id and result');
      expect(sut.selectTextRows([], ALL, 10, ['id', 'finish_time']).text).not.toContain('nulls');
    });

    it.each([
      ['all', ALL],
      ['patterns', SOME],
    ])('for deletes in scope %s, with and without a limit', (_kind, access) => {
      expect(sut.delete(FAILED_SINCE, access, 5, AUDIT).text).toMatchSnapshot('newest 5');
      expect(sut.delete(FAILED_SINCE, access, undefined, AUDIT).text).toMatchSnapshot('every match');
    });

    it('for a delete without conditions, and for the worker names under prefixes', () => {
      expect(sut.delete([], ALL, undefined, AUDIT).text).toMatchSnapshot('delete everything');
      expect(sut.workerNames(['a', 'b']).text).toMatchSnapshot('worker names');
    });
  });

  it('binds each value at its own placeholder, and one value to every placeholder it fills', () => {
    const filters: Filter[] = [
      { kind: 'js_worker_name', value: 'first' },
      { kind: 'start_time_from', value: 10n },
      { kind: 'is_running' },
      { kind: 'js_worker_name', value: 'second' },
      { kind: 'start_time_to', value: 2n ** 63n - 1n },
    ];
    const statement = sut.selectJson(filters, { kind: 'patterns', names: ['exact'], prefixes: ['pre'] }, 7);
    expect(valuesAt(statement, /"j"\."js_worker_name" = \$(\d+)/g)).toEqual(['first', 'second']);
    expect(valuesAt(statement, /"j"\."start_time" >= \$(\d+)::bigint/g)).toEqual(['10']);
    expect(valuesAt(statement, /"j"\."start_time" <= \$(\d+)::bigint/g)).toEqual(['9223372036854775807']);
    expect(valuesAt(statement, /unnest\(\$(\d+)::text\[\]\) AS p\(prefix\)/g)).toEqual([['pre']]);
    expect(valuesAt(statement, /UNION SELECT unnest\(\$(\d+)::text\[\]\)/g)).toEqual([['exact']]);
    expect(valuesAt(statement, /LIMIT \$(\d+)/g)).toEqual([7, 7]);
    expect(placeholders(statement.text)).toEqual(statement.values.map((_, i) => i + 1));
  });

  it('builds a shape once: the same conditions with other values reuse its text', () => {
    const build = jest.spyOn(dataSource, 'createQueryBuilder');
    try {
      const first = sut.selectJson([{ kind: 'js_worker_name', value: 'a' }, { kind: 'is_success' }], WORKERS, 10);
      const builds = build.mock.calls.length;
      const second = sut.selectJson([{ kind: 'js_worker_name', value: 'b' }, { kind: 'is_success' }], distinctNames(['x'], []), 99);
      expect(builds).toBeGreaterThan(0);
      expect(build).toHaveBeenCalledTimes(builds);
      expect(second.text).toBe(first.text);
      expect(second.values).toEqual([Number.MAX_SAFE_INTEGER, ['x'], 'b', 99]);
    } finally {
      build.mockRestore();
    }
  });

  it('never lets a value change the text', () => {
    const kinds = fc.constantFrom(...ONE_OF_EACH.map((filter) => filter.kind));
    const text = fc.string({ maxLength: 8 });
    const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    fc.assert(
      fc.property(fc.array(kinds, { maxLength: 6 }), fc.infiniteStream(fc.tuple(text, int64)), (shapeKinds, values) => {
        const withValues = () =>
          shapeKinds.map((kind): Filter => {
            const [name, number] = values.next().value as [string, bigint];
            if (kind === 'js_worker_name' || kind === 'run_type') return { kind, value: name };
            return kind.startsWith('is_') ? ({ kind } as Filter) : ({ kind, value: number } as Filter);
          });
        const [a, b] = [withValues(), withValues()];
        expect(sut.selectRows(b, SOME, 3).text).toBe(sut.selectRows(a, { kind: 'patterns', names: [], prefixes: ['q'] }, 1).text);
        expect(sut.delete(b, ALL, 2, AUDIT).text).toBe(sut.delete(a, ALL, 9, AUDIT).text);
      }),
      { numRuns: 200 },
    );
  });

  it('registers every text it builds, so the pool sends it as a named statement', () => {
    const small = new PreparedStatements('t_', 1);
    const statements = new RowsStatements(dataSource, small);
    const first = statements.selectJson([], ALL, 1);
    const second = statements.selectRows([], ALL, 1);
    expect(small.nameOf(first.text)).toBe('t_0');
    expect(small.nameOf(second.text)).toBeUndefined();
  });

  it('keeps a bounded number of shapes, and builds an evicted one again to the same text', () => {
    const statements = new JsResultStatements(dataSource, undefined, 2);
    const first = statements.selectJson([], ALL, 1).text;
    statements.selectJson([{ kind: 'is_failure' }], ALL, 1);
    statements.selectJson([{ kind: 'is_running' }], ALL, 1);
    const build = jest.spyOn(dataSource, 'createQueryBuilder');
    try {
      expect(statements.selectJson([], ALL, 1).text).toBe(first);
      expect(build).toHaveBeenCalled();
    } finally {
      build.mockRestore();
    }
  });

  describe('on the database', () => {
    const BIG = '9223372036854775807';

    beforeAll(async () => {
      await dataSource.query('DELETE FROM js_result');
      await dataSource.query(
        `INSERT INTO js_result (id, js_worker_id, js_worker_name, run_type, start_time, finish_time, param, result, error_message)
         VALUES (${BIG}, ${BIG}, 'big', 'cron', NULL, NULL, NULL, NULL, NULL),
                (2, 7, 'small', 'call', 1000, 2000, '{"n": 12345678901234567890}', 'null', NULL),
                (3, 7, 'small', 'call', 1000, NULL, NULL, NULL, 'boom "quoted"')`,
      );
    });

    const run = async <T>({ text, values }: Statement): Promise<T> => dataSource.query<T>(text, values);

    it('answers reads as one JSON array text of wire records, newest first, integers exact', async () => {
      const [{ json }] = await run<{ json: string }[]>(sut.selectJson([], ALL, 10));
      const records = JSON.parse(json) as Record<string, unknown>[];
      expect(records.map((r) => Object.keys(r))).toEqual(
        Array(3).fill(['id', 'js_worker_id', 'js_worker_name', 'run_type', 'start_time', 'finish_time', 'param', 'result', 'error_message']),
      );
      expect(json).toContain(`"id":${BIG},"js_worker_id":${BIG},"js_worker_name":"big"`);
      expect(json).toContain('"param":{"n": 12345678901234567890}');
      expect(records.slice(1)).toEqual([
        { id: 3, js_worker_id: 7, js_worker_name: 'small', run_type: 'call', start_time: 1000, finish_time: null, param: null, result: null, error_message: 'boom "quoted"' },
        { id: 2, js_worker_id: 7, js_worker_name: 'small', run_type: 'call', start_time: 1000, finish_time: 2000, param: { n: 12345678901234567890 }, result: null, error_message: null },
      ]);
    });

    it("answers '[]' when nothing matches", async () => {
      expect(await run(sut.selectJson([{ kind: 'id', value: 42n }], ALL, 10))).toEqual([{ json: '[]', bytes: 2 }]);
      expect(await run(sut.selectJson([], WORKERS, 0))).toEqual([{ json: '[]', bytes: 2 }]);
    });

    it('answers only the length when the array would be longer than the cap, and the array when it fits exactly', async () => {
      const [{ json, bytes }] = await run<{ json: string; bytes: number }[]>(sut.selectJson([], ALL, 10));
      expect(bytes).toBe(Buffer.byteLength(json));
      expect(await run(sut.selectJson([], ALL, 10, undefined, bytes - 1))).toEqual([{ json: null, bytes }]);
      expect(await run(sut.selectJson([], ALL, 10, undefined, bytes))).toEqual([{ json, bytes }]);
      const [projected] = await run<{ json: string; bytes: number }[]>(sut.selectJson([], ALL, 10, ['id', 'error_message']));
      expect(projected.bytes).toBe(Buffer.byteLength(projected.json));
      expect(await run(sut.selectJson([], ALL, 10, ['id', 'error_message'], projected.bytes - 1))).toEqual([{ json: null, bytes: projected.bytes }]);
    });

    it('sends a text row value only within its share, measured as the text it would be, and tells which it withheld', async () => {
      // 22 bytes stored, 403 as text: a gate on stored sizes would let it through.
      await dataSource.query(`INSERT INTO js_result (id, js_worker_id, js_worker_name, run_type, start_time, param) VALUES (4, 7, 'small', 'call', 500, '[1e400]')`);
      try {
        const all = await run<Record<string, unknown>[]>(sut.selectTextRows([], ALL, 10));
        expect(all.some(withheld)).toBe(false);
        expect(all.find((row) => String(row.id) === '4')?.param).toBe(`[1${'0'.repeat(400)}]`);
        // '{"n": 12345678901234567890}' is 27 bytes and 'null' 4: a share of 20 keeps the result, not the param.
        const rows = await run<Record<string, unknown>[]>(sut.selectTextRows([], ALL, 10, undefined, 20));
        const byId = new Map(rows.map((row) => [String(row.id), row]));
        expect(byId.get('2')).toMatchObject({ param: null, result: 'null', run_type: 'call' });
        // An error message is held to a bound of its JSON text (six bytes a byte and the quotes): 80 here.
        expect(byId.get('3')).toMatchObject({ param: null, error_message: null });
        expect(byId.get('4')).toMatchObject({ param: null });
        expect(rows.map((row) => [String(row.id), withheld(row)])).toEqual([
          [BIG, false],
          ['3', true],
          ['2', true],
          ['4', true],
        ]);
        const withMessages = await run<Record<string, unknown>[]>(sut.selectTextRows([], ALL, 10, undefined, 80));
        expect(withMessages.find((row) => String(row.id) === '3')).toMatchObject({ error_message: 'boom "quoted"' });
        expect(withMessages.filter(withheld).map((row) => String(row.id))).toEqual(['4']);
        const pageRows = await run<Record<string, unknown>[]>(sut.page([], ALL, undefined, 10, ['id', 'param'], 402));
        expect(pageRows.filter(withheld).map((row) => String(row.id))).toEqual(['4']);
      } finally {
        await dataSource.query('DELETE FROM js_result WHERE id = 4');
      }
    });

    it('assembles a page in the database: its records, how many matched, and where it ends, exact; only the length over the cap', async () => {
      const [whole] = await run<{ json: string }[]>(sut.selectJson([], ALL, 10));
      const first = await run<Record<string, unknown>[]>(sut.pageJson([], ALL, undefined, 3, undefined, 1_000_000));
      // Page size 2: the third row only tells that more follow.
      expect(first).toEqual([{ json: expect.any(String), bytes: expect.anything(), rows: expect.anything(), last_start: '1000', last_id: '3' }]);
      expect(JSON.parse(first[0].json as string)).toEqual((JSON.parse(whole.json) as unknown[]).slice(0, 2));
      expect(first[0].json).toContain(`"id":${BIG}`);
      expect(Number(first[0].bytes)).toBe(Buffer.byteLength(first[0].json as string));
      expect(Number(first[0].rows)).toBe(3);
      const last = await run<Record<string, unknown>[]>(sut.pageJson([], ALL, { startTime: '1000', id: '3' }, 3, ['id'], 1_000_000));
      expect(last).toEqual([{ json: expect.any(String), bytes: expect.anything(), rows: expect.anything(), last_start: null, last_id: null }]);
      expect(JSON.parse(last[0].json as string)).toEqual([{ id: 2 }]);
      expect(Number(last[0].rows)).toBe(1);
      const [over] = await run<Record<string, unknown>[]>(sut.pageJson([], ALL, undefined, 3, undefined, Number(first[0].bytes) - 1));
      expect(over.json).toBeNull();
      expect(Number(over.bytes)).toBe(Number(first[0].bytes));
    });

    it('finds the existing worker names under prefixes, each once', async () => {
      const rows = await run<{ name: string }[]>(sut.workerNames(['s', 'sm', 'x']));
      expect(rows).toEqual([{ name: 'small' }]);
    });
  });

  describe(valueShare.name, () => {
    it('splits the allowance over every gated value of the rows, or leaves it whole when the fields have none', () => {
      expect(valueShare(1000, 10)).toBe(33);
      expect(valueShare(1000, 10, ['id', 'param'])).toBe(100);
      expect(valueShare(1000, 10, ['id', 'js_worker_name', 'start_time'])).toBe(1000);
      expect(valueShare(1001, 2, ['param', 'result'])).toBe(250);
      // Compared as an int4 in the statement, as octet_length is.
      expect(valueShare(Number.MAX_SAFE_INTEGER, 1)).toBe(2 ** 31 - 1);
    });
  });

  describe(applyFilters.name, () => {
    it('adds every condition to a builder over JsResult, each value a parameter, integers as decimal text', () => {
      const qb = applyFilters(dataSource.createQueryBuilder(JsResult, 'j').select('j.id', 'id'), [
        { kind: 'js_worker_name', value: "o'brien" },
        { kind: 'is_success' },
        { kind: 'finish_time_to', value: -(2n ** 63n) },
      ], { alias: 'j' });
      const [text, values] = qb.getQueryAndParameters();
      expect(text).toBe(
        'SELECT "j"."id" AS "id" FROM "js_result" "j" WHERE "j"."js_worker_name" = $1 AND ("j"."result" IS NOT NULL AND "j"."error_message" IS NULL) AND "j"."finish_time" <= $2::bigint',
      );
      expect(values).toEqual(["o'brien", '-9223372036854775808']);
    });
  });
});
