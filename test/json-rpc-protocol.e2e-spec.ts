import request from 'supertest';
import { call, countRows, queryParams, rpc, seed, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';
import { TWO_WORKERS } from './support/fixtures';

/** The JSON-RPC 2.0 specification's own examples (section 7), on this service's methods. */
describe(`JSON-RPC 2.0 protocol (${backendName})`, () => {
  let t: TestApp;
  let q: (condition: unknown[]) => { token: string; query: { condition: unknown[] } };

  beforeAll(async () => {
    t = await startTestApp();
    q = (condition) => queryParams(t.superToken, condition);
  });

  afterAll(() => t.close());

  beforeEach(async () => {
    await t.dataSource.query('DELETE FROM js_result');
    await seed(t.dataSource, TWO_WORKERS);
  });

  it('accepts positional params [token, query]', async () => {
    const { status, body } = await rpc(t.app, call('js-result_query', [t.superToken, { condition: [{ js_worker_name: 'a' }] }], 1));
    expect(status).toBe(200);
    expect(body.result.map((r: any) => r.result)).toEqual([2, 1]);
  });

  it('accepts named params, ignoring unknown extra keys', async () => {
    const { body } = await rpc(t.app, call('js-result_query', { ...q([{ js_worker_name: 'b' }]), extra: true }, 3));
    expect(body).toEqual({ jsonrpc: '2.0', id: 3, result: [expect.objectContaining({ js_worker_name: 'b', result: 3 })] });
  });

  it('refuses more positional params than the method declares', async () => {
    // js-result_delete takes [token, query]; js-result_query also takes fields (LIFECYCLE.md).
    const { body } = await rpc(t.app, call('js-result_delete', [t.superToken, { condition: [] }, 'x'], 4));
    expect(body.error.code).toBe(-32602);
    expect(body.error.message).toBe('Invalid params: expected at most 2 positional params [token, query], got 3');
    const query = await rpc(t.app, call('js-result_query', [t.superToken, { condition: [] }, ['id'], 'x'], 5));
    expect(query.body.error.message).toBe('Invalid params: expected at most 3 positional params [token, query, fields], got 4');
    expect(await countRows(t.dataSource)).toBe(3);
  });

  it('runs a notification but does not answer it', async () => {
    const res = await request(t.app.getHttpServer())
      .post('/')
      .send(JSON.stringify({ jsonrpc: '2.0', method: 'js-result_delete', params: q([{ js_worker_name: 'a' }]) }));
    expect([200, 204]).toContain(res.status);
    expect(res.text).toBe('');
    expect(await countRows(t.dataSource)).toBe(1);
  });

  it('answers a call of a non-existent method with -32601', async () => {
    const { body } = await rpc(t.app, call('foobar', {}, '1'));
    expect(body).toEqual({ jsonrpc: '2.0', id: '1', error: { code: -32601, message: "Method not found: no method named 'foobar'", data: { method: 'foobar' } } });
  });

  it('answers invalid JSON with -32700 and a null id', async () => {
    const { status, body } = await rpc(t.app, '{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]');
    expect(status).toBe(200);
    expect(body).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: the body is not valid JSON' } });
  });

  it('answers an invalid request object with -32600', async () => {
    const { body } = await rpc(t.app, { jsonrpc: '2.0', method: 1, params: 'bar' });
    expect(body).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request: method must be a string' } });
  });

  it('answers a batch that is invalid JSON with one -32700', async () => {
    const { body } = await rpc(t.app, '[{"jsonrpc": "2.0", "method": "js-result_query", "params": [], "id": "1"},{"jsonrpc": "2.0", "method"]');
    expect(body).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: the body is not valid JSON' } });
  });

  it('answers an empty batch with one -32600', async () => {
    const { body } = await rpc(t.app, []);
    expect(body).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request: empty batch' } });
  });

  it('answers each invalid member of a batch on its own', async () => {
    const one = await rpc(t.app, [1]);
    expect(one.body).toEqual([{ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request: expected a request object' } }]);
    const three = await rpc(t.app, [1, 2, 3]);
    expect(three.body).toHaveLength(3);
    expect(three.body.every((r: any) => r.error.code === -32600 && r.id === null)).toBe(true);
  });

  it('answers a mixed batch: results, errors, and silence for notifications', async () => {
    const { body } = await rpc(t.app, [
      call('js-result_query', q([{ js_worker_name: 'a' }, 'last']), '1'),
      { jsonrpc: '2.0', method: 'js-result_query', params: q([]) },
      call('js-result_query', q([{ limit: -1 }]), '2'),
      { foo: 'boo' },
      call('foo.get', { name: 'myself' }, '5'),
      call('js-result_query', ['bad token', { condition: [] }], '9'),
    ]);
    const byId = new Map(body.filter((r: any) => r.id !== null).map((r: any) => [r.id, r]));
    expect(body).toHaveLength(5);
    expect((byId.get('1') as any).result).toEqual([expect.objectContaining({ js_worker_name: 'a', result: 2 })]);
    expect((byId.get('2') as any).error.code).toBe(-32602);
    expect((byId.get('5') as any).error.code).toBe(-32601);
    expect((byId.get('9') as any).error.code).toBe(101);
    expect(body.filter((r: any) => r.id === null)).toEqual([
      { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request: jsonrpc must be exactly "2.0"' } },
    ]);
  });

  it('sends no body for a batch of only notifications', async () => {
    const res = await request(t.app.getHttpServer())
      .post('/')
      .send(JSON.stringify([
        { jsonrpc: '2.0', method: 'js-result_delete', params: q([{ js_worker_name: 'a' }]) },
        { jsonrpc: '2.0', method: 'js-result_delete', params: q([{ js_worker_name: 'b' }]) },
      ]));
    expect(res.text).toBe('');
    expect(await countRows(t.dataSource)).toBe(0);
  });

  it('echoes ids of every kind unchanged, including 0, null and integers beyond 2^53', async () => {
    for (const id of [0, null, 'abc', -7, 1.5]) {
      const { body } = await rpc(t.app, call('js-result_query', q([{ limit: 0 }]), id));
      expect(body).toEqual({ jsonrpc: '2.0', id, result: [] });
    }
    const big = await rpc(t.app, '{"jsonrpc":"2.0","method":"js-result_query","params":{"token":"x","query":{"condition":[]}},"id":9007199254740993}');
    expect(big.text).toContain('"id":9007199254740993,');
  });

  it('refuses ids that are neither string, number nor null', async () => {
    const { body } = await rpc(t.app, { jsonrpc: '2.0', method: 'js-result_query', params: q([]), id: { x: 1 } });
    expect(body.error.code).toBe(-32600);
    expect(body.id).toBeNull();
  });

  it('serves /nodeget/rpc as well as /, and answers errors with HTTP 200', async () => {
    const ok = await rpc(t.app, call('js-result_query', q([{ js_worker_name: 'b' }])), '/nodeget/rpc');
    expect(ok.status).toBe(200);
    expect(ok.body.result).toHaveLength(1);
    const failed = await rpc(t.app, call('js-result_query', queryParams('k:s', [])), '/nodeget/rpc');
    expect(failed.status).toBe(200);
    expect(failed.body.error).toEqual({ code: 102, message: 'Permission denied: Invalid credentials' });
  });

  it('reads bodies posted without a JSON content type (curl -d)', async () => {
    const res = await request(t.app.getHttpServer())
      .post('/')
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send(JSON.stringify(call('js-result_query', q([{ js_worker_name: 'b' }]))));
    expect(JSON.parse(res.text).result).toHaveLength(1);
  });

  it('ignores a query string on the JSON-RPC paths and leaves other paths and methods to the 404 handler', async () => {
    const withQuery = await rpc(t.app, call('js-result_query', q([{ js_worker_name: 'b' }])), '/nodeget/rpc?client=dashboard');
    expect(withQuery.body.result).toHaveLength(1);
    const server = t.app.getHttpServer();
    expect((await request(server).post('/nodeget/rpc/extra').send('{}')).status).toBe(404);
    expect((await request(server).get('/')).status).toBe(404);
    expect((await request(server).put('/').send(JSON.stringify(call('js-result_query', q([]))))).status).toBe(404);
  });

  it('refuses a body over 4 MiB with HTTP 413 and runs nothing of it', async () => {
    const deleteAll = call('js-result_delete', q([]));
    const padded = JSON.stringify({ ...deleteAll, padding: 'x'.repeat(4 * 1024 * 1024) });
    const res = await request(t.app.getHttpServer()).post('/').set('Content-Type', 'application/json').send(padded);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.text)).toEqual({ statusCode: 413, error: 'Payload Too Large', message: 'The body exceeds 4194304 bytes' });
    expect(await countRows(t.dataSource)).toBe(3);
    // Just under the limit is read and run.
    const fits = JSON.stringify({ ...deleteAll, padding: 'x'.repeat(4 * 1024 * 1024 - 200) });
    const ok = await request(t.app.getHttpServer()).post('/').set('Content-Type', 'application/json').send(fits);
    expect(JSON.parse(ok.text).result).toEqual({ success: true, deleted: 3, condition_count: 0 });
  });

  it('refuses params that are neither array nor object', async () => {
    const { body } = await rpc(t.app, { jsonrpc: '2.0', method: 'js-result_query', params: 'bar', id: 1 });
    expect(body).toEqual({ jsonrpc: '2.0', id: 1, error: { code: -32600, message: 'Invalid Request: params must be an array or an object' } });
  });

  it('authenticates each call of a batch on its own token', async () => {
    const reader = await t.token([{ scopes: [{ js_worker: 'a' }], permissions: [{ js_result: { read: 'a' } }] }]);
    const { body } = await rpc(t.app, [
      call('js-result_query', queryParams(reader, [{ js_worker_name: 'b' }]), 1),
      call('js-result_query', queryParams(t.superToken, [{ js_worker_name: 'b' }]), 2),
      call('js-result_query', queryParams(reader, []), 3),
    ]);
    const byId = Object.fromEntries(body.map((r: any) => [r.id, r]));
    expect(byId[1].error.code).toBe(102);
    expect(byId[2].result).toHaveLength(1);
    expect(byId[3].result.map((r: any) => r.js_worker_name)).toEqual(['a', 'a']);
  });

  it('counts calls by registered method and outcome on /metrics, never by raw client method names', async () => {
    await rpc(t.app, call('js-result_query', q([{ limit: 1 }])));
    await rpc(t.app, call('js-result_query', q([{ limit: -1 }])));
    await rpc(t.app, call('no-such-method-xyz', {}));
    const res = await request(t.app.getHttpServer()).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/jsonrpc_calls_total\{method="js-result_query",code="0"\} [1-9]/);
    expect(res.text).toMatch(/jsonrpc_calls_total\{method="js-result_query",code="-32602"\} [1-9]/);
    expect(res.text).toMatch(/jsonrpc_calls_total\{method="unknown",code="-32601"\} [1-9]/);
    expect(res.text).not.toContain('no-such-method-xyz');
    expect(res.text).toContain('process_resident_memory_bytes');
  });

  it('reports database health on /health', async () => {
    const res = await request(t.app.getHttpServer()).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
  });
});
