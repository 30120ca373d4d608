import 'reflect-metadata';
import { DEFAULT_RESPONSE_LIMITS } from '../src/config/app.config';
import { allIds, call, rpc, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';

/**
 * Reads of up to the default cap (1,000 rows) are held to the reply budget
 * before their rows reach the process: an answer over it is a 108 with its
 * exact size, and the database never sent the rows that make it up. What the
 * database sends is counted at the app's own DataSource, so a read that loaded
 * its rows first and refused them afterwards fails here.
 */
const CALL_LIMIT = 1024 * 1024;
const REQUEST_LIMIT = 4 * CALL_LIMIT;
const HUGE_ROWS = 8;
const HUGE_CHARS = 2_000_000;
const ZEROS_400 = '0'.repeat(400);

const TOO_LARGE = new RegExp(
  `^Invalid input: the answer would be (\\d+) bytes, over the MAX_CALL_RESPONSE_BYTES limit of ${CALL_LIMIT} bytes per call; ask for less: a smaller limit, fewer fields, fewer calls per batch, or js-result_page$`,
);

/** Bytes of text in whatever a statement returned: what the rows hold once they are in the process. */
function textBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + textBytes(item), 0);
  if (value !== null && typeof value === 'object') return textBytes(Object.values(value));
  return 0;
}

describe(`reads held to the reply budget before they are loaded (${backendName})`, () => {
  let t: TestApp;
  let ids: number[];
  let received = 0;

  beforeAll(async () => {
    t = await startTestApp({ responses: { ...DEFAULT_RESPONSE_LIMITS, maxCallResponseBytes: CALL_LIMIT, maxResponseBytes: REQUEST_LIMIT } });
    // 2 MB of JSON text each, a few KB where they are stored (compressed): a gate on stored sizes would let them through.
    await t.dataSource.query(
      `INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time, result)
       SELECT 1, 'huge', 'call', 1000 + g, to_jsonb(repeat('x', ${HUGE_CHARS - 2})) FROM generate_series(1, ${HUGE_ROWS}) g`,
    );
    // Three of 300 KB fit a call together, though each is over its even share of it.
    await t.dataSource.query(
      `INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time, result)
       SELECT 2, 'mid', 'call', 2000 + g, to_jsonb(repeat('y', 300000)) FROM generate_series(1, 3) g`,
    );
    await t.dataSource.query(
      `INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time, param, result)
       VALUES (3, 'exact', 'call', 3000, '{"big": 12345678901234567890, "safe": 9007199254740993, "d": 1.50, "e": 1e400}', '[1.50, 1e-5]')`,
    );
    ids = await allIds(t.dataSource);
    const query = t.dataSource.query.bind(t.dataSource);
    jest.spyOn(t.dataSource, 'query').mockImplementation(async (...args: Parameters<typeof query>) => {
      const rows: unknown = await query(...args);
      received += textBytes(rows);
      return rows;
    });
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await t?.close();
  });

  beforeEach(() => {
    received = 0;
  });

  afterEach(async () => {
    expect(await allIds(t.dataSource)).toEqual(ids);
  });

  const query = (condition: unknown[], id = 1) => call('js-result_query', { token: t.superToken, query: { condition } }, id);
  const page = (condition: unknown[], pageSize: number, cursor?: string | null) =>
    call('js-result_page', { token: t.superToken, query: { condition }, page_size: pageSize, cursor });

  /** The size a 108 names: the bytes of the JSON array of the records. */
  function refusedBytes(reply: { error?: { code: number; message: string } }): number {
    expect(reply.error?.code).toBe(108);
    const match = TOO_LARGE.exec(reply.error!.message);
    expect(match).not.toBeNull();
    return Number(match![1]);
  }

  // Each record: the result's text and about 150 bytes of the other fields.
  const hugeArrayBytes = (rows: number) => [rows * (HUGE_CHARS + 100), rows * (HUGE_CHARS + 250)];

  it('refuses a query of the default cap over the budget with 108 and its exact size, having received less than the budget', async () => {
    const reply = await rpc(t.app, query([{ js_worker_name: 'huge' }]));
    const bytes = refusedBytes(reply.body);
    const [least, most] = hugeArrayBytes(HUGE_ROWS);
    expect(bytes).toBeGreaterThan(least);
    expect(bytes).toBeLessThan(most);
    expect(received).toBeLessThan(CALL_LIMIT);
  });

  it('refuses a page over the budget the same way', async () => {
    const reply = await rpc(t.app, page([{ js_worker_name: 'huge' }], 100));
    const bytes = refusedBytes(reply.body);
    const [least, most] = hugeArrayBytes(HUGE_ROWS);
    expect(bytes).toBeGreaterThan(least);
    expect(bytes).toBeLessThan(most);
    expect(received).toBeLessThan(CALL_LIMIT);
  });

  it('answers a batch of such reads with 108 each, having received less than the request budget in all', async () => {
    const reply = await rpc(t.app, [
      ...Array.from({ length: 4 }, (_, i) => query([{ js_worker_name: 'huge' }], i + 1)),
      ...Array.from({ length: 4 }, (_, i) => ({ ...page([{ js_worker_name: 'huge' }], 1000), id: i + 5 })),
    ]);
    expect(reply.body).toHaveLength(8);
    for (const r of reply.body) expect(r.error.code).toBe(108);
    // Unchecked, the rows of these reads would be 8 × 16 MB.
    expect(received).toBeLessThan(REQUEST_LIMIT);
  });

  it('answers reads that fit, though each value is over its even share, in full, and pages through them', async () => {
    const reply = await rpc(t.app, query([{ js_worker_name: 'mid' }]));
    expect(reply.body.error).toBeUndefined();
    expect(reply.body.result.map((r: { start_time: number }) => r.start_time)).toEqual([2003, 2002, 2001]);
    for (const r of reply.body.result) expect(r.result).toBe('y'.repeat(300000));
    expect(received).toBeLessThan(2 * CALL_LIMIT);

    const walked: number[] = [];
    let cursor: string | null = null;
    do {
      received = 0;
      const next = await rpc(t.app, page([{ js_worker_name: 'mid' }], 2, cursor));
      expect(next.body.error).toBeUndefined();
      expect(received).toBeLessThan(2 * CALL_LIMIT);
      walked.push(...next.body.result.items.map((r: { start_time: number }) => r.start_time));
      cursor = next.body.result.next_cursor;
    } while (cursor !== null);
    expect(walked).toEqual([2003, 2002, 2001]);
  });

  it('measures what is stored now: a row whose result grows past the budget (as a finishing run writes it) is refused unread', async () => {
    const exact = "js_worker_name = 'exact'";
    const sizesMatch = `SELECT bool_and(param_text_bytes IS NOT DISTINCT FROM octet_length(param::text)
      AND result_text_bytes IS NOT DISTINCT FROM octet_length(result::text)) AS ok FROM js_result`;
    try {
      await t.dataSource.query(`UPDATE js_result SET result = to_jsonb(repeat('z', ${HUGE_CHARS})) WHERE ${exact}`);
      received = 0;
      const reply = await rpc(t.app, query([{ js_worker_name: 'exact' }]));
      expect(refusedBytes(reply.body)).toBeGreaterThan(HUGE_CHARS);
      expect(received).toBeLessThan(CALL_LIMIT);
      expect(await t.dataSource.query(sizesMatch)).toEqual([{ ok: true }]);
    } finally {
      await t.dataSource.query(`UPDATE js_result SET result = '[1.50, 1e-5]' WHERE ${exact}`);
    }
    expect(await t.dataSource.query(sizesMatch)).toEqual([{ ok: true }]);
  });

  it('holds an error message to the budget the same way: a run that failed with a huge message is refused unread', async () => {
    await t.dataSource.query(
      `INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time, finish_time, error_message)
       VALUES (4, 'loud', 'call', 4000, 4001, repeat('e', ${HUGE_CHARS}))`,
    );
    try {
      received = 0;
      const reply = await rpc(t.app, query([{ js_worker_name: 'loud' }]));
      expect(refusedBytes(reply.body)).toBeGreaterThan(HUGE_CHARS);
      expect(received).toBeLessThan(CALL_LIMIT);
    } finally {
      await t.dataSource.query("DELETE FROM js_result WHERE js_worker_name = 'loud'");
    }
  });

  describe('returns stored numbers exactly, whichever way a read is written', () => {
    const exactValues = (text: string) => {
      expect(text).toContain('"big": 12345678901234567890');
      expect(text).toContain('"safe": 9007199254740993');
      expect(text).toContain('"d": 1.50');
      // jsonb keeps 1e400 as the exact number, which it writes out in digits.
      expect(text).toContain(`"e": 1${ZEROS_400}`);
      expect(text).toContain('"result":[1.50, 0.00001]');
    };

    it.each([
      ['a short query (rows written here)', () => query([{ js_worker_name: 'exact' }])],
      ['a query above the default cap (assembled by the database)', () => query([{ js_worker_name: 'exact' }, { limit: 1001 }])],
      ['a short page', () => page([{ js_worker_name: 'exact' }], 10)],
      ['a page above the default cap', () => page([{ js_worker_name: 'exact' }], 1001)],
      ['a query whose values are over their shares (assembled by the database)', () => query([{ start_time_from: 2001 }, { limit: 4 }])],
      ['a page whose values are over their shares', () => page([{ start_time_from: 2001 }], 4)],
    ])('%s', async (_how, request) => {
      const reply = await rpc(t.app, request());
      expect(reply.body.error).toBeUndefined();
      exactValues(reply.text);
    });
  });
});
