import { DEFAULT_RESPONSE_LIMITS } from '../src/config/app.config';
import { allIds, call, rpc, seed, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';

const CALL_LIMIT = 2_048;

/** Errors carry `data` a program can act on, beside NodeGet's unchanged code and message. */
describe(`Error data (${backendName})`, () => {
  let t: TestApp;
  let ids: number[];

  beforeAll(async () => {
    t = await startTestApp({ responses: { ...DEFAULT_RESPONSE_LIMITS, maxCallResponseBytes: CALL_LIMIT } });
    await seed(t.dataSource, Array.from({ length: 40 }, (_, i) => ({ jsWorkerName: 'w', startTime: i, result: 'x'.repeat(100) })));
    ids = await allIds(t.dataSource);
  });

  afterEach(async () => {
    expect(await allIds(t.dataSource)).toEqual(ids);
  });

  afterAll(() => t.close());

  it('names the path of a bad param (-32602)', async () => {
    const { body } = await rpc(t.app, call('js-result_delete', { token: t.superToken, query: { condition: [{ js_worker_name: 'w' }, 'is_success', { limit: 1.5 }] } }));
    expect(body.error).toEqual({
      code: -32602,
      message: 'Invalid params: query.condition[2].limit: expected an unsigned integer, got 1.5',
      data: { path: 'query.condition[2].limit' },
    });
  });

  it('names the property of a DTO param, and leaves data out when no one param is to blame', async () => {
    const fields = await rpc(t.app, call('js-result_query', { token: t.superToken, query: { condition: [] }, fields: ['id', 'nope'] }));
    expect(fields.body.error).toMatchObject({ code: -32602, data: { path: 'fields[1]' } });
    const token = await rpc(t.app, call('js-result_count', { token: 5, query: { condition: [] } }));
    expect(token.body.error).toMatchObject({ code: -32602, data: { path: 'token' } });
    const positional = await rpc(t.app, call('js-result_delete', [t.superToken, { condition: [] }, 'x']));
    expect(positional.body.error).toEqual({ code: -32602, message: 'Invalid params: expected at most 2 positional params [token, query], got 3' });
  });

  it('names the unknown method (-32601)', async () => {
    const { body } = await rpc(t.app, call('js-result_frobnicate', {}));
    expect(body.error).toEqual({ code: -32601, message: "Method not found: no method named 'js-result_frobnicate'", data: { method: 'js-result_frobnicate' } });
    // A hostile name is not sent twice.
    const long = 'x'.repeat(201);
    expect((await rpc(t.app, call(long, {}))).body.error).toEqual({ code: -32601, message: `Method not found: no method named '${long}'` });
  });

  it('gives the limit and the measured size of a reply too large (108)', async () => {
    const { body } = await rpc(t.app, call('js-result_query', { token: t.superToken, query: { condition: [{ limit: 40 }] } }));
    expect(body.error).toEqual({
      code: 108,
      message: expect.stringContaining(`over the MAX_CALL_RESPONSE_BYTES limit of ${CALL_LIMIT} bytes per call`),
      data: { limit: 'MAX_CALL_RESPONSE_BYTES', limit_bytes: CALL_LIMIT, size_bytes: expect.any(Number) },
    });
    expect(body.error.data.size_bytes).toBeGreaterThan(CALL_LIMIT);
    expect(body.error.message).toContain(`would be ${body.error.data.size_bytes} bytes`);
  });

  it('adds nothing to a success', async () => {
    const { body } = await rpc(t.app, call('js-result_count', { token: t.superToken, query: { condition: [] } }));
    expect(body).toEqual({ jsonrpc: '2.0', id: 1, result: { count: 40 } });
  });
});
