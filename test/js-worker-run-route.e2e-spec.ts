import request from 'supertest';
import { DEFAULT_WORKER_ROUTE_SETTINGS } from '../src/config/app.config';
import { createWorker, rpcCall, runToEnd, runWorker } from './support/js-worker.helpers';
import { allIds, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';

const ROUTE = `export default {
  async onRoute(request, env) {
    const bytes = new Uint8Array(await request.arrayBuffer());
    return new Response(bytes, {
      status: 207,
      headers: { 'content-type': 'application/octet-stream', 'set-cookie': 'a=b', 'x-seen': request.method + ' ' + request.url + ' ' + request.headers.get('x-a') + ' ' + env.E },
    });
  },
};`;

const b64 = (bytes: number[]) => Buffer.from(bytes).toString('base64');

/**
 * js-worker_run with run_type "route": NodeGet's HTTP simulation, a js_result row holding the serialised Response.
 * The server runs with WORKER_ROUTES=off: the simulation is an authenticated call and does not need the HTTP routes.
 */
describe(`js-worker_run with run_type "route" (${backendName})`, () => {
  let t: TestApp;
  const sut = (params: unknown, extra: Record<string, unknown> = {}) => runToEnd(t.app, t.superToken, 'router', { run_type: 'route', params, ...extra });

  beforeAll(async () => {
    t = await startTestApp({ workerRoutes: { ...DEFAULT_WORKER_ROUTE_SETTINGS, enabled: false } });
    await createWorker(t.app, t.superToken, 'router', ROUTE, { env: { E: 'stored' }, route_name: 'router' });
    await createWorker(t.app, t.superToken, 'not_a_response', 'export default { onRoute() { return { status: 200 } } }');
    await createWorker(t.app, t.superToken, 'call_only', 'export default { onCall() { return 1 } }');
  });

  afterAll(() => t.close());

  it("runs onRoute with the Request the params describe and stores the Response's status, every header and the body as base64", async () => {
    const params = { url: 'https://mock.local/worker-route/r/x?q=1', method: 'POST', headers: [{ name: 'X-A', value: '1' }], body_base64: b64([0, 255, 1]) };
    const row = await sut(params, { env: { E: 'given' } });
    expect(row).toMatchObject({ run_type: 'route', js_worker_name: 'router', param: params, error_message: null });
    expect(row.result).toEqual({
      status: 207,
      headers: expect.arrayContaining([
        { name: 'content-type', value: 'application/octet-stream' },
        // As NodeGet stores them: the allow-list applies to real HTTP answers only.
        { name: 'set-cookie', value: 'a=b' },
        { name: 'x-seen', value: 'POST https://mock.local/worker-route/r/x?q=1 1 given' },
      ]),
      body_base64: b64([0, 255, 1]),
    });
  });

  it('defaults the method to GET, and leaves out a body a GET cannot carry', async () => {
    const row = await sut({ url: 'http://h/', body_base64: b64([1, 2]) });
    expect(row.error_message).toBeNull();
    expect(row.result.body_base64).toBe('');
    expect(row.result.headers).toContainEqual({ name: 'x-seen', value: 'GET http://h/ null stored' });
  });

  it('records a run whose onRoute returns no Response, or that has none, as failed', async () => {
    const params = { url: 'http://h/' };
    const notResponse = await runToEnd(t.app, t.superToken, 'not_a_response', { run_type: 'route', params });
    expect(notResponse.result).toBeNull();
    expect(notResponse.error_message).toContain('onRoute must return a Response object');
    const missing = await runToEnd(t.app, t.superToken, 'call_only', { run_type: 'route', params });
    expect(missing.error_message).toBe('handler onRoute is not defined');
  });

  it.each<[string, unknown, string]>([
    ['no params', undefined, 'params: expected {"url"'],
    ['a list', [1], 'params: expected {"url"'],
    ['no url', { method: 'GET' }, 'params.url: expected an absolute http(s) URL, got nothing'],
    ['a url without a scheme', { url: 'mock.local/x' }, 'params.url: expected an absolute http(s) URL, got "mock.local/x"'],
    ['a method with a space', { url: 'http://h/', method: 'G ET' }, 'params.method: expected an HTTP method'],
    ['headers as an object', { url: 'http://h/', headers: { a: 'b' } }, 'params.headers: expected a list of {"name": "...", "value": "..."}'],
    ['a header without a name', { url: 'http://h/', headers: [{ value: 'b' }] }, 'params.headers[0].name: expected a header name, got nothing'],
    ['a header value with a line break', { url: 'http://h/', headers: [{ name: 'a', value: 'b\nc' }] }, 'params.headers[0].value: expected a header value'],
    ['a body that is not base64', { url: 'http://h/', body_base64: '!!' }, 'params.body_base64: expected the body as a base64 string, got "!!"'],
    ['body bytes out of range', { url: 'http://h/', body_bytes: [256] }, 'params.body_bytes: expected the body as a list of byte values (0 to 255), got [256]'],
  ])('refuses %s with -32602 naming the param, writing nothing', async (_label, params, message) => {
    const before = await allIds(t.dataSource);
    const workers = await t.dataSource.query('SELECT name, updated_at FROM js_worker ORDER BY name');
    const body = await runWorker(t.app, t.superToken, 'router', { run_type: 'route', ...(params === undefined ? {} : { params }) });
    expect(body.error).toMatchObject({ code: -32602, message: expect.stringContaining(message) });
    expect(await allIds(t.dataSource)).toEqual(before);
    expect(await t.dataSource.query('SELECT name, updated_at FROM js_worker ORDER BY name')).toEqual(workers);
  });

  it('answers 105 for a worker that does not exist, writing nothing', async () => {
    const before = await allIds(t.dataSource);
    const body = await rpcCall(t.app, 'js-worker_run', { token: t.superToken, js_script_name: 'ghost', run_type: 'route', params: { url: 'http://h/' } });
    expect(body.error).toMatchObject({ code: 105, message: 'Not found in database: js_worker not found: ghost' });
    expect(await allIds(t.dataSource)).toEqual(before);
  });

  it('serves no HTTP route with WORKER_ROUTES=off: every route path is a plain 404, and nothing runs', async () => {
    const before = await allIds(t.dataSource);
    for (const path of ['/nodeget/worker-route/router', '/worker-route/router/x']) {
      const res = await request(t.app.getHttpServer()).post(path).send('x');
      expect([path, res.status, res.body.message]).toEqual([path, 404, `Cannot POST ${path}`]);
    }
    expect(await allIds(t.dataSource)).toEqual(before);
  });
});
