import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { RouteConcurrency } from '../src/worker-route/worker-route.concurrency';
import { WorkerRouteController } from '../src/worker-route/worker-route.controller';
import { createWorker, rpcCall } from './support/js-worker.helpers';
import { rawRequest, type RawRequest } from './support/raw-http';
import { countRows, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';

const MAX_BODY = 64 * 1024;

/** Echoes what onRoute saw of the request. */
const ECHO = `export default {
  async onRoute(request, env, ctx) {
    const bodyless = request.method === 'GET' || request.method === 'HEAD';
    const seen = {
      method: request.method,
      url: request.url,
      body: bodyless ? null : await request.text(),
      type: request.headers.get('content-type'),
      ip: request.headers.get('NG-Connecting-IP'),
      runType: ctx.runType,
      worker: ctx.workerName,
      greeting: env.GREETING,
    };
    return new Response(JSON.stringify(seen), { status: 201, headers: { 'content-type': 'application/json; charset=utf-8' } });
  },
};`;

const BYTES = `export default {
  async onRoute(request) {
    return new Response(await request.arrayBuffer(), { headers: { 'content-type': 'application/octet-stream' } });
  },
};`;

const HEADERS = `export default {
  onRoute() {
    return new Response('ok', {
      headers: {
        'content-type': 'text/plain; charset=utf-8',
        'cache-control': 'max-age=60',
        'etag': '"v1"',
        'last-modified': 'Fri, 04 Dec 2026 10:00:00 GMT',
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'GET',
        'access-control-allow-headers': 'x-a',
        'content-length': '999',
        'set-cookie': 'session=stolen',
        'location': 'https://evil.example/',
        'content-security-policy': "default-src 'none'",
        'x-powered-by': 'worker',
      },
    });
  },
};`;

/** NodeGet allows route names of 128 characters. */
const LONGEST_ROUTE_NAME = `${'a'.repeat(127)}z`;

const route = (body: string) => `export default { async onRoute(request) { ${body} } };`;

/** Worker HTTP routes: what a caller gets for what a worker's onRoute returns, and what the server refuses. */
describe(`${WorkerRouteController.name} (${backendName})`, () => {
  let t: TestApp;
  let port: number;
  const sut = (path: string, options?: RawRequest) => rawRequest(port, path, options);

  beforeAll(async () => {
    t = await startTestApp({
      trustProxy: ['loopback'],
      workerRoutes: { enabled: true, maxBodyBytes: MAX_BODY, maxConcurrent: 2, maxConcurrentPerRoute: 1 },
    });
    await t.app.listen(0, '127.0.0.1');
    port = (t.app.getHttpServer().address() as AddressInfo).port;
    const workers: [string, string, string | null, Record<string, unknown>?][] = [
      ['echo', ECHO, 'echo', { env: { GREETING: 'hi' } }],
      ['bytes', BYTES, 'bytes.v1'],
      ['headers', HEADERS, 'headers'],
      ['throws', route("throw new Error('secret-in-the-message ' + 'x'.repeat(10))"), 'throws'],
      ['plain_object', route("return { status: 200, body: 'x' }"), 'plain-object'],
      ['plain_text', route("return 'just text'"), 'plain-text'],
      ['error_response', route('return Response.error()'), 'error-response'],
      ['bad_status', route("return new Response('x', { status: 700 })"), 'bad-status'],
      ['large_response', route(`return new Response('x'.repeat(${MAX_BODY + 1}))`), 'large-response'],
      ['no_route_handler', 'export default { onCall() { return 1 } }', 'no-handler'],
      ['slow', route('for (;;) {}'), 'slow', { max_run_time: 500 }],
      ['slow_too', route('for (;;) {}'), 'slow-too', { max_run_time: 500 }],
      ['unrouted', 'export default { onRoute() { return new Response("x") } }', null],
      ['inliner', route("return new Response(JSON.stringify(await inlineCall('doubler', 21)))"), 'inliner'],
      ['doubler', 'export default { onInlineCall(n) { return n * 2 } }', null],
      ['longest_name', 'export default { onRoute() { return new Response("long") } }', LONGEST_ROUTE_NAME],
      ['hello_json', readFileSync(join(__dirname, '..', 'examples', 'workers', 'route-json.js'), 'utf8'), 'hello-json', { env: { greeting: 'Hi' } }],
    ];
    for (const [name, source, routeName, options] of workers) {
      const created = await createWorker(t.app, t.superToken, name, source, { route_name: routeName, ...options });
      if (created.error) throw new Error(`${name}: ${JSON.stringify(created.error)}`);
    }
  });

  afterAll(() => t.close());

  it('answers GET with the JSON the worker returns, with the path below the route, the env and the route context', async () => {
    const res = await sut('/nodeget/worker-route/echo/a/b?x=1');
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['content-length']).toBe(String(res.body.length));
    expect(res.json).toEqual({
      method: 'GET',
      url: `http://127.0.0.1:${port}/nodeget/worker-route/echo/a/b?x=1`,
      body: null,
      type: null,
      ip: '127.0.0.1',
      runType: 'onRoute',
      worker: 'echo',
      greeting: 'hi',
    });
  });

  it('runs the route example (examples/workers/route-json.js) unchanged, for GET and for POST with a JSON body', async () => {
    const got = await sut('/nodeget/worker-route/hello-json/greet?name=Ada');
    expect([got.status, got.headers['content-type'], got.headers['cache-control']]).toEqual([200, 'application/json; charset=utf-8', 'no-store']);
    expect(got.json).toEqual({
      ok: true,
      message: 'Hi, Ada!',
      worker: 'hello_json',
      method: 'GET',
      path: '/nodeget/worker-route/hello-json/greet',
      sent: null,
      caller: '127.0.0.1',
      trace_id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
    });
    const posted = await sut('/worker-route/hello-json', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n": 2}' });
    expect(posted.json).toMatchObject({ message: 'Hi, world!', method: 'POST', path: '/worker-route/hello-json', sent: { n: 2 } });
  });

  it('hands a POST body to the worker as sent, UTF-8 text included', async () => {
    const body = JSON.stringify({ name: 'Zoë', emoji: '🚀' });
    const res = await sut('/nodeget/worker-route/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ method: 'POST', body, type: 'application/json' });
  });

  it('serves the route and everything below it under the older /worker-route/ prefix the same way, for any method', async () => {
    for (const path of ['/worker-route/echo', '/worker-route/echo/', '/worker-route/echo/deep/er', '/nodeget/worker-route/echo/']) {
      const res = await sut(path, { method: 'PUT', body: 'x' });
      expect([path, res.status, res.json?.method, res.json?.url]).toEqual([path, 201, 'PUT', `http://127.0.0.1:${port}${path}`]);
    }
    expect((await sut('/worker-route/echo', { method: 'DELETE' })).json).toMatchObject({ method: 'DELETE' });
    expect((await sut('/worker-route/echo', { method: 'PATCH', body: 'p' })).json).toMatchObject({ method: 'PATCH', body: 'p' });
  });

  it('carries bytes both ways exactly, whatever they are', async () => {
    const body = Buffer.from([0, 1, 2, 0xff, 0xfe, 0xc3, 0x28, 0x80, 10, 13, 0]);
    const res = await sut('/nodeget/worker-route/bytes.v1/upload', { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.body.equals(body)).toBe(true);
  });

  it('passes only the allowed response headers, and the length of what is sent', async () => {
    const res = await sut('/nodeget/worker-route/headers');
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('ok');
    expect(res.headers).toMatchObject({
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'max-age=60',
      etag: '"v1"',
      'last-modified': 'Fri, 04 Dec 2026 10:00:00 GMT',
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET',
      'access-control-allow-headers': 'x-a',
      'content-length': '2',
    });
    for (const dropped of ['set-cookie', 'location', 'content-security-policy', 'x-powered-by']) expect(res.headers[dropped]).toBeUndefined();
  });

  it("tells the worker the caller's address in ng-connecting-ip, as TRUST_PROXY believes it, replacing the client's own", async () => {
    const sent = (headers: Record<string, string>) => sut('/nodeget/worker-route/echo', { headers }).then((res) => res.json.ip);
    expect(await sent({ 'ng-connecting-ip': '6.6.6.6' })).toBe('127.0.0.1');
    // The proxy at 127.0.0.1 is trusted here (TRUST_PROXY=loopback), so it may name the client.
    expect(await sent({ 'x-forwarded-for': '203.0.113.7', 'NG-Connecting-IP': '6.6.6.6' })).toBe('203.0.113.7');
  });

  it('refuses a body over WORKER_ROUTE_MAX_BODY_BYTES with 413, declared or streamed, and takes one at the limit', async () => {
    const declared = await sut('/nodeget/worker-route/echo', { method: 'POST', declaredLength: MAX_BODY + 1 });
    expect(declared.status).toBe(413);
    expect(declared.json).toEqual({ statusCode: 413, error: 'Payload Too Large', message: `the request body exceeds ${MAX_BODY} bytes` });
    expect(declared.headers.connection).toBe('close');
    const streamed = await sut('/nodeget/worker-route/echo', { method: 'POST', body: Array.from({ length: 8 }, () => Buffer.alloc(MAX_BODY / 4, 'a')) });
    expect(streamed.status).toBe(413);
    const atLimit = await sut('/nodeget/worker-route/bytes.v1', { method: 'POST', body: Buffer.alloc(MAX_BODY, 'b') });
    expect([atLimit.status, atLimit.body.length]).toEqual([200, MAX_BODY]);
  });

  it('serves a route name of the longest length NodeGet allows', async () => {
    const res = await sut(`/worker-route/${LONGEST_ROUTE_NAME}/below`);
    expect([res.status, res.body.toString()]).toEqual([200, 'long']);
  });

  it('answers 404 for a route no worker serves, a name that cannot be one, and a worker without a route', async () => {
    for (const path of ['/nodeget/worker-route/nobody', '/worker-route/unrouted', '/nodeget/worker-route/..', '/nodeget/worker-route/%2e%2e/x', '/nodeget/worker-route/a%20b']) {
      const res = await sut(path);
      expect([path, res.status]).toEqual([path, 404]);
    }
    expect((await sut('/nodeget/worker-route/nobody')).json).toEqual({ statusCode: 404, error: 'Not Found', message: "no worker serves the route 'nobody'" });
    expect((await sut(`/nodeget/worker-route/${'<b>'.repeat(10)}`)).json?.message).toBe('no worker serves this route');
  });

  it('follows a route renamed or removed at once', async () => {
    await createWorker(t.app, t.superToken, 'moving', 'export default { onRoute() { return new Response("here") } }', { route_name: 'old-place' });
    expect((await sut('/nodeget/worker-route/old-place')).status).toBe(200);
    await rpcCall(t.app, 'js-worker_update', { token: t.superToken, name: 'moving', route_name: 'new-place' });
    expect((await sut('/nodeget/worker-route/old-place')).status).toBe(404);
    expect((await sut('/nodeget/worker-route/new-place')).body.toString()).toBe('here');
    await rpcCall(t.app, 'js-worker_delete', { token: t.superToken, name: 'moving' });
    expect((await sut('/nodeget/worker-route/new-place')).status).toBe(404);
  });

  it('answers 500 without the error text or a stack when the handler throws', async () => {
    const res = await sut('/nodeget/worker-route/throws');
    expect(res.status).toBe(500);
    expect(res.json).toEqual({ statusCode: 500, error: 'Internal Server Error', message: "the worker's onRoute failed; the server log has the error" });
    expect(res.body.toString()).not.toContain('secret-in-the-message');
  });

  it.each([
    ['a plain object', 'plain-object', "the worker's onRoute did not return a Response"],
    ['a string', 'plain-text', "the worker's onRoute did not return a Response"],
    ['Response.error() (status 0)', 'error-response', "the worker's Response has status 0, outside 200 to 599"],
    ['a status the Response refuses (700)', 'bad-status', "the worker's onRoute failed; the server log has the error"],
    ['a body over the limit', 'large-response', `the worker's response body exceeds ${MAX_BODY} bytes`],
    ['no onRoute handler', 'no-handler', 'the worker has no onRoute handler'],
  ])('answers 500 when the worker returns %s', async (_label, name, message) => {
    const res = await sut(`/nodeget/worker-route/${name}`);
    expect([res.status, res.json]).toEqual([500, { statusCode: 500, error: 'Internal Server Error', message }]);
  });

  it("refuses requests over the per-route and the total concurrency limits with 503 and Retry-After; 504 past the worker's max_run_time", async () => {
    const concurrency = t.app.get(RouteConcurrency);
    const held = sut('/nodeget/worker-route/slow');
    await until(() => concurrency.runningOf('slow') === 1);
    const sameRoute = await sut('/nodeget/worker-route/slow');
    expect([sameRoute.status, sameRoute.headers['retry-after'], sameRoute.json?.message]).toEqual([
      503,
      '1',
      "too many requests for the route 'slow' at once; try again later",
    ]);
    const heldToo = sut('/nodeget/worker-route/slow-too');
    await until(() => concurrency.running === 2);
    const overTotal = await sut('/nodeget/worker-route/echo');
    expect([overTotal.status, overTotal.headers['retry-after']]).toEqual([503, '1']);
    const timedOut = await held;
    expect([timedOut.status, timedOut.json?.message]).toEqual([504, 'the worker did not answer within its max_run_time']);
    expect((await heldToo).status).toBe(504);
    expect(concurrency.running).toBe(0);
    expect((await sut('/nodeget/worker-route/echo')).status).toBe(201);
  });

  it('counts requests per route and status in the metrics', async () => {
    const metrics = (await sut('/metrics')).body.toString();
    expect(metrics).toMatch(/jsr_worker_route_requests_total\{route="echo",status="201"\} [1-9]/);
    expect(metrics).toMatch(/jsr_worker_route_requests_total\{route="",status="404"\} [1-9]/);
    expect(metrics).toContain('jsr_worker_route_in_flight 0');
  });

  it('has written no js_result row for any of these route runs, and changed no worker', async () => {
    expect(await countRows(t.dataSource)).toBe(0);
    const [{ count }] = await t.dataSource.query("SELECT count(*)::int AS count FROM js_worker WHERE updated_at <> created_at AND name <> 'moving'");
    expect(count).toBe(0);
  });

  it("gives onRoute the injected API: an inlineCall from a route writes the callee's inline_call row, and none for the route", async () => {
    const res = await sut('/nodeget/worker-route/inliner');
    expect([res.status, res.json]).toEqual([200, 42]);
    const rows = await t.dataSource.query('SELECT js_worker_name, run_type FROM js_result');
    expect(rows).toEqual([{ js_worker_name: 'doubler', run_type: 'inline_call' }]);
  });
});

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
