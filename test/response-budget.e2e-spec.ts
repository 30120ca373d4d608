import 'reflect-metadata';
import request from 'supertest';
import { DEFAULT_RESPONSE_LIMITS } from '../src/config/app.config';
import { allIds, call, rpc, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';

/**
 * MAX_CALL_RESPONSE_BYTES and MAX_RESPONSE_BYTES, small here so a few
 * thousand rows reach them: an answer over either is a 108 naming the limit
 * and how to ask for less, and only that call of its batch fails.
 */
const ROWS = 3000;
const CALL_LIMIT = 500_000;
const REQUEST_LIMIT = 1_000_000;

const query = (token: string, limit: number, id: number) => call('js-result_query', { token, query: { condition: [{ limit }] } }, id);

describe(`response budget (${backendName})`, () => {
  let t: TestApp;
  let ids: number[];

  beforeAll(async () => {
    t = await startTestApp({ responses: { ...DEFAULT_RESPONSE_LIMITS, maxCallResponseBytes: CALL_LIMIT, maxResponseBytes: REQUEST_LIMIT } });
    // About 250 bytes a record: 1500 of them fit a call, 2500 do not; six of 1000 do not fit a request.
    await t.dataSource.query(
      `INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time, error_message)
       SELECT 1, 'w', 'call', g, repeat('x', 100) FROM generate_series(1, ${ROWS}) g`,
    );
    ids = await allIds(t.dataSource);
  });

  afterAll(async () => {
    await t?.close();
  });

  afterEach(async () => {
    expect(await allIds(t.dataSource)).toEqual(ids);
  });

  const bytesOf = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

  it('answers a call over MAX_CALL_RESPONSE_BYTES with 108 naming the limit, and the other calls of its batch as alone', async () => {
    const alone = (await rpc(t.app, query(t.superToken, 10, 2))).body;
    const reply = await rpc(t.app, [query(t.superToken, ROWS, 1), query(t.superToken, 10, 2), call('js-result_count', { token: t.superToken, query: { condition: [] } }, 3)]);
    const byId = new Map(reply.body.map((r: { id: number }) => [r.id, r]));
    expect(byId.get(1)).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: {
        code: 108,
        message: expect.stringMatching(/^Invalid input: the answer would be \d+ bytes, over the MAX_CALL_RESPONSE_BYTES limit of 500000 bytes per call; ask for less: a smaller limit, .*fewer calls per batch, or js-result_page$/),
        data: { limit: 'MAX_CALL_RESPONSE_BYTES', limit_bytes: 500000, size_bytes: expect.any(Number) },
      },
    });
    expect(byId.get(2)).toEqual(alone);
    expect(byId.get(3)).toEqual({ jsonrpc: '2.0', id: 3, result: { count: ROWS } });
  });

  it('stops a large read (JSON assembled by the database) at the limit, and one that fits is answered whole', async () => {
    const over = (await rpc(t.app, query(t.superToken, 2500, 1))).body;
    expect(over.error.code).toBe(108);
    const bytes = Number(/would be (\d+) bytes/.exec(over.error.message)![1]);
    const fits = (await rpc(t.app, query(t.superToken, 1500, 1))).body;
    expect(fits.result).toHaveLength(1500);
    // The length the database reported is the length the records would have had.
    expect(bytes).toBeGreaterThan(bytesOf(fits.result));
    expect(bytes).toBeLessThan((bytesOf(fits.result) * 2500) / 1500 + 2500);
  });

  it('fails only the calls of a batch past MAX_RESPONSE_BYTES, whichever form their reads take', async () => {
    for (const limit of [1000, 1500]) {
      const batch = Array.from({ length: 6 }, (_, i) => query(t.superToken, limit, i + 1));
      const reply = await rpc(t.app, batch);
      const answered = reply.body.filter((r: { result?: unknown }) => r.result !== undefined);
      const refused = reply.body.filter((r: { error?: unknown }) => r.error !== undefined);
      expect(reply.body).toHaveLength(6);
      expect(answered.length).toBeGreaterThan(0);
      expect(refused.length).toBeGreaterThan(0);
      for (const r of answered) expect(r.result).toHaveLength(limit);
      for (const r of refused) {
        expect(r.error).toEqual({
          code: 108,
          message: expect.stringContaining('of the MAX_RESPONSE_BYTES limit of 1000000 bytes per request; ask for less'),
          data: expect.objectContaining({ limit: 'MAX_RESPONSE_BYTES', limit_bytes: 1000000 }),
        });
      }
      expect(bytesOf(answered)).toBeLessThanOrEqual(REQUEST_LIMIT);
    }
  });

  it('counts results dropped for the budget on /metrics, apart from the calls that succeeded', async () => {
    const tooLarge = async () => {
      const text = (await request(t.app.getHttpServer()).get('/metrics')).text;
      return Number(/^jsonrpc_replies_too_large_total\{method="js-result_query"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    const before = await tooLarge();
    // Short reads (row objects): the first that does not fit is read in full and then dropped; later ones are refused before they run.
    const reply = await rpc(t.app, Array.from({ length: 6 }, (_, i) => query(t.superToken, 1000, i + 1)));
    const refused = reply.body.filter((r: { error?: unknown }) => r.error !== undefined).length;
    const dropped = (await tooLarge()) - before;
    expect(dropped).toBeGreaterThanOrEqual(1);
    expect(dropped).toBeLessThanOrEqual(refused);
  });

  it('holds a page to MAX_CALL_RESPONSE_BYTES too, and answers a smaller one', async () => {
    const page = (pageSize: number) => call('js-result_page', { token: t.superToken, query: { condition: [] }, page_size: pageSize });
    const over = (await rpc(t.app, page(ROWS))).body;
    expect(over.error).toEqual({
      code: 108,
      message: expect.stringContaining('over the MAX_CALL_RESPONSE_BYTES limit of 500000 bytes per call'),
      data: { limit: 'MAX_CALL_RESPONSE_BYTES', limit_bytes: 500000, size_bytes: expect.any(Number) },
    });
    expect((await rpc(t.app, page(1000))).body.result.items).toHaveLength(1000);
  });
});
