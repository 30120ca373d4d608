import { get as httpGet, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { type AppConfig, DEFAULT_LOGIN_LIMITS, DEFAULT_LOG_SETTINGS } from '../src/config/app.config';
import { MetricsServer } from '../src/metrics/metrics.server';
import { RetentionSweeper } from '../src/retention/retention.sweeper';
import { createWorker, runWorker } from './support/js-worker.helpers';
import { call, rpc, seed, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';
import { WsRpcClient, wsUrl } from './support/ws-client';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Every log line of every app in this file: nestjs-pino builds one root logger
 * per process (the first app's), so all apps here share this destination.
 */
const lines: string[] = [];
const capture = { write: (line: string) => lines.push(line) };
const logged = () => lines.map((line) => JSON.parse(line) as Record<string, any>);
const accessLines = () => logged().filter((line) => line.context === 'AccessLog');

async function start(overrides: Partial<AppConfig> = {}): Promise<TestApp> {
  return startTestApp({ logLevel: 'info', ...overrides, logs: { ...DEFAULT_LOG_SETTINGS, destination: capture, ...overrides.logs } });
}

async function listening(t: TestApp): Promise<number> {
  await t.app.listen(0, '127.0.0.1');
  return (t.app.getHttpServer().address() as AddressInfo).port;
}

/** A POST of one JSON-RPC request with extra headers; the reply's body and headers. */
function post(port: number, payload: unknown, headers: Record<string, string> = {}): Promise<{ body: any; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method: 'POST', path: '/', agent: false, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ body: text ? JSON.parse(text) : undefined, headers: res.headers }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(payload));
  });
}

async function metricsText(t: TestApp, authorization?: string): Promise<string> {
  const req = request(t.app.getHttpServer()).get('/metrics');
  if (authorization) req.set('Authorization', authorization);
  const res = await req;
  expect(res.status).toBe(200);
  return res.text;
}

/** The value of one sample (`name{labels}`), or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const [keyOf, secretOf] = [(token: string) => token.split(':')[0], (token: string) => token.split(':')[1]];

describe(`Observability: request ids, access and slow-call logs, trusted proxies, metrics (${backendName})`, () => {
  afterEach(() => {
    lines.length = 0;
  });

  describe('request ids, the access log and METRICS_TOKEN', () => {
    let t: TestApp;
    let port: number;
    const token = 'scrape-me-0123456789';

    beforeAll(async () => {
      t = await start({ logs: { accessLog: true, slowCallMs: 0 }, metrics: { token } });
      port = await listening(t);
    });

    afterAll(() => t.close());

    it('echoes a sane x-request-id, and makes one for a request without it or with an unfit one', async () => {
      const given = await post(port, call('token_get', { token: t.superToken }), { 'x-request-id': 'lb-7f3a.42' });
      expect(given.headers['x-request-id']).toBe('lb-7f3a.42');
      const none = await post(port, call('token_get', { token: t.superToken }));
      expect(none.headers['x-request-id']).toMatch(UUID);
      const unfit = await post(port, call('token_get', { token: t.superToken }), { 'x-request-id': `a"b${'x'.repeat(200)}` });
      expect(unfit.headers['x-request-id']).toMatch(UUID);
      const notification = await post(port, { jsonrpc: '2.0', method: 'token_get', params: { token: t.superToken } }, { 'x-request-id': 'n-1' });
      expect(notification.headers['x-request-id']).toBe('n-1');
      // Routes outside JSON-RPC too.
      const res = await request(t.app.getHttpServer()).get('/metrics').set('x-request-id', 'scrape-1');
      expect(res.headers['x-request-id']).toBe('scrape-1');
    });

    it('writes one line per call with method, id, code, duration, peer and token key, under the request id, never the secret', async () => {
      const limited = await t.token([{ scopes: ['global'], permissions: [{ js_result: { read: '*' } }] }]);
      const wrong = `${keyOf(limited)}:${'0'.repeat(secretOf(limited).length)}`;
      await post(
        port,
        [call('token_get', { token: limited }, 'ok-1'), call('token_get', { token: wrong }, 9), call('no_such_method', {}, 'x')],
        { 'x-request-id': 'batch-1' },
      );
      const calls = accessLines().filter((line) => line.reqId === 'batch-1');
      expect(calls).toHaveLength(3);
      const byId = new Map(calls.map((line) => [line.id, line]));
      expect(byId.get('ok-1')).toMatchObject({ level: 30, method: 'token_get', code: 0, tokenKey: keyOf(limited) });
      expect(byId.get('ok-1')!.peer).toMatch(/127\.0\.0\.1$/);
      expect(byId.get('ok-1')!.ms).toEqual(expect.any(Number));
      expect(byId.get(9)).toMatchObject({ method: 'token_get', code: 102 });
      expect(byId.get(9)!.tokenKey).toBeUndefined();
      expect(byId.get('x')).toMatchObject({ method: 'unknown', code: -32601 });
      const text = lines.join('');
      expect(text).not.toContain(secretOf(limited));
      expect(text).not.toContain(secretOf(t.superToken));
    });

    it('gives each WebSocket message a request id of its own', async () => {
      const client = await WsRpcClient.connect(wsUrl(t.app));
      await client.call(call('token_get', { token: t.superToken }, 'w1'));
      await client.call(call('token_get', { token: t.superToken }, 'w2'));
      await client.close();
      const [w1, w2] = ['w1', 'w2'].map((id) => accessLines().find((line) => line.id === id));
      expect(w1?.reqId).toMatch(UUID);
      expect(w2?.reqId).toMatch(UUID);
      expect(w1?.reqId).not.toBe(w2?.reqId);
      expect(w1?.tokenKey).toBe(keyOf(t.superToken));
    });

    it('refuses /metrics without the bearer token (401), and serves it with', async () => {
      const server = t.app.getHttpServer();
      const none = await request(server).get('/metrics');
      expect(none.status).toBe(401);
      expect(none.headers['www-authenticate']).toBe('Bearer');
      expect(none.text).not.toContain('jsonrpc_calls_total');
      expect((await request(server).get('/metrics').set('Authorization', `Bearer ${token}x`)).status).toBe(401);
      expect((await request(server).get('/metrics').set('Authorization', token)).status).toBe(401);
      expect(await metricsText(t, `Bearer ${token}`)).toContain('jsonrpc_calls_total');
    });
  });

  describe('request ids without ACCESS_LOG, on the lines a call causes after it is answered', () => {
    let t: TestApp;
    let port: number;

    beforeAll(async () => {
      t = await start();
      port = await listening(t);
      const script = `export default {
        async onCall(input, env, ctx) { nodegetLog.info('audit', 'ran ' + ctx.workerName); return 1; },
        async onRoute() { throw new Error('route failed on purpose'); },
      };`;
      const created = await createWorker(t.app, t.superToken, 'obs-worker', script, { route_name: 'obs-route' });
      expect(created.error).toBeUndefined();
    });

    afterAll(() => t.close());

    it("carries the js-worker_run call's request id on the run's own log lines", async () => {
      const ran = await post(port, call('js-worker_run', { token: t.superToken, js_script_name: 'obs-worker' }), { 'x-request-id': 'run-req-1' });
      expect(ran.body.result).toEqual({ id: expect.any(Number) });
      await waitFor(() => logged().some((line) => line.namespace === 'audit'), 'the run to log');
      const line = logged().find((l) => l.namespace === 'audit');
      expect(line).toMatchObject({ worker: 'obs-worker', js_result_id: ran.body.result.id, reqId: 'run-req-1', msg: 'ran obs-worker' });
    });

    it("carries a worker route request's id on the line logging its failure", async () => {
      const res = await request(t.app.getHttpServer()).get('/nodeget/worker-route/obs-route').set('x-request-id', 'route-req-1');
      expect(res.status).toBe(500);
      expect(logged().find((l) => l.msg === 'worker route failed')).toMatchObject({ worker: 'obs-worker', reqId: 'route-req-1' });
    });
  });

  describe('TRUST_PROXY', () => {
    const limits = { ...DEFAULT_LOGIN_LIMITS, failuresPerAddress: 2, failuresPerUsername: 1_000_000 };
    const badLogin = call('token_get', { token: 'nobody|wrong-password' });
    const throttled = /too many failed logins for this address/;

    describe('trusting the loopback proxy', () => {
      let t: TestApp;
      let port: number;

      beforeAll(async () => {
        t = await start({ trustProxy: ['loopback'], login: limits, logs: { accessLog: true, slowCallMs: 0 } });
        port = await listening(t);
      });

      afterAll(() => t.close());

      it('takes the client address from x-forwarded-for, for the log and for the per-address login rule', async () => {
        const from = (client: string) => ({ 'x-forwarded-for': `${client}, 127.0.0.1`, 'x-request-id': `xff-${client}` });
        await post(port, badLogin, from('203.0.113.7'));
        await post(port, badLogin, from('203.0.113.7'));
        expect((await post(port, badLogin, from('203.0.113.7'))).body.error.message).toMatch(throttled);
        // Another client behind the same proxy has its own budget.
        expect((await post(port, badLogin, from('203.0.113.8'))).body.error.message).toBe('Permission denied: Invalid credentials');
        const line = accessLines().find((l) => l.reqId === 'xff-203.0.113.8');
        expect(line?.peer).toBe('203.0.113.8');
        const text = (await request(t.app.getHttpServer()).get('/metrics')).text;
        expect(sample(text, 'jsr_login_refusals_total{reason="address_throttled"}')).toBe(1);
        expect(sample(text, 'jsr_login_refusals_total{reason="invalid_credentials"}')).toBe(3);
      });

      it('takes it from the upgrade request of a WebSocket connection as well', async () => {
        const client = await WsRpcClient.connect(wsUrl(t.app), { headers: { 'x-forwarded-for': '198.51.100.4' } });
        await client.call(call('token_get', { token: t.superToken }, 'ws-xff'));
        await client.close();
        expect(accessLines().find((l) => l.id === 'ws-xff')?.peer).toBe('198.51.100.4');
      });
    });

    describe('trusting only a proxy the client is not', () => {
      let t: TestApp;
      let port: number;

      beforeAll(async () => {
        t = await start({ trustProxy: ['10.0.0.0/8'], login: limits, logs: { accessLog: true, slowCallMs: 0 } });
        port = await listening(t);
      });

      afterAll(() => t.close());

      it('attributes a forged x-forwarded-for to the peer: the log shows it, and the login rule counts it', async () => {
        const forged = (n: number) => ({ 'x-forwarded-for': `192.0.2.${n}`, 'x-request-id': `forged-${n}` });
        await post(port, badLogin, forged(1));
        await post(port, badLogin, forged(2));
        // A third "client" is the same peer: blocked.
        expect((await post(port, badLogin, forged(3))).body.error.message).toMatch(throttled);
        expect(accessLines().find((l) => l.reqId === 'forged-1')?.peer).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
        const client = await WsRpcClient.connect(wsUrl(t.app), { headers: { 'x-forwarded-for': '198.51.100.4' } });
        await client.call(call('token_get', { token: t.superToken }, 'ws-forged'));
        await client.close();
        expect(accessLines().find((l) => l.id === 'ws-forged')?.peer).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
      });
    });
  });

  describe('metrics of every queue, and slow calls with ACCESS_LOG off', () => {
    let t: TestApp;

    beforeAll(async () => {
      t = await start({ retentionSweepIntervalMs: 86_400_000, logs: { accessLog: false, slowCallMs: 150 } });
      await listening(t);
    });

    afterAll(() => t.close());

    it('logs no call that is not slow, and a slow one at warn with its method, id and duration', async () => {
      const [row] = await seed(t.dataSource, [{ jsWorkerName: 'obs_slow', startTime: 1 }]);
      await rpc(t.app, call('token_get', { token: t.superToken }, 'fast'));
      const waited = await rpc(t.app, call('js-result_wait', { token: t.superToken, id: Number(row.id), timeout_ms: 400 }, 'slow'));
      expect(waited.body.result).toBeDefined();
      const slow = accessLines().filter((line) => line.id === 'slow');
      expect(slow).toEqual([expect.objectContaining({ level: 40, method: 'js-result_wait', code: 0, reqId: expect.stringMatching(UUID) })]);
      expect(slow[0].ms).toBeGreaterThanOrEqual(150);
      expect(slow[0].msg).toMatch(/^slow JSON-RPC call: js-result_wait took \d+ ms$/);
      expect(accessLines().filter((line) => line.level === 30)).toEqual([]);
    });

    it('says which build runs, and times calls up to 60 s', async () => {
      await rpc(t.app, call('token_get', { token: t.superToken }));
      const text = await metricsText(t);
      const version = (await import('../package.json')).version;
      expect(sample(text, `jsr_build_info{version="${version}",node="${process.version}",backend="${backendName}"}`)).toBe(1);
      expect(text).toContain('jsonrpc_call_duration_seconds_bucket{le="60"');
    });

    it('reports the database pool and the LISTEN connections', async () => {
      const text = await metricsText(t);
      expect(sample(text, 'jsr_db_pool_connections')).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'jsr_db_pool_idle')).toBeGreaterThanOrEqual(0);
      expect(sample(text, 'jsr_db_pool_waiting')).toBe(0);
      expect(sample(text, 'jsr_listen_connected{channel="jsr_result_finished"}')).toBe(1);
      if (backendName === 'postgres') expect(sample(text, 'jsr_listen_connected{channel="jsr_token_changed"}')).toBe(1);
    });

    it('counts WebSocket connections, subscriptions and js-result_wait waiters as they come and go', async () => {
      let text = await metricsText(t);
      expect([sample(text, 'jsr_ws_connections'), sample(text, 'jsr_subscriptions'), sample(text, 'jsr_result_waiters')]).toEqual([0, 0, 0]);
      const client = await WsRpcClient.connect(wsUrl(t.app));
      const subscribed = await client.call(call('js-result_subscribe', { token: t.superToken, query: { condition: [] } }));
      expect(subscribed.result).toBeDefined();
      const [row] = await seed(t.dataSource, [{ jsWorkerName: 'obs_wait', startTime: 1 }]);
      const waiting = rpc(t.app, call('js-result_wait', { token: t.superToken, id: Number(row.id), timeout_ms: 30_000 }));
      await waitFor(async () => sample(await metricsText(t), 'jsr_result_waiters') === 1, 'the waiter to show');
      text = await metricsText(t);
      expect([sample(text, 'jsr_ws_connections'), sample(text, 'jsr_subscriptions')]).toEqual([1, 1]);
      await t.dataSource.query('UPDATE js_result SET finish_time = 2 WHERE id = $1', [row.id]);
      await waiting;
      await client.close();
      await waitFor(async () => sample(await metricsText(t), 'jsr_ws_connections') === 0, 'the connection to go');
      text = await metricsText(t);
      expect([sample(text, 'jsr_subscriptions'), sample(text, 'jsr_result_waiters')]).toEqual([0, 0]);
    });

    it('reports the worker pool: its size, busy runners and the run queue', async () => {
      expect(sample(await metricsText(t), 'jsr_worker_runners')).toBe(2);
      expect((await createWorker(t.app, t.superToken, 'obs_busy', 'export default { onCall() { while (true) {} } }', { max_run_time: 1_000 })).error).toBeUndefined();
      const runs = await Promise.all([1, 2, 3].map(() => runWorker(t.app, t.superToken, 'obs_busy')));
      expect(runs.map((run) => run.error)).toEqual([undefined, undefined, undefined]);
      // Three endless runs on two threads: both busy and one waiting, until their time is up.
      await waitFor(async () => {
        const text = await metricsText(t);
        return sample(text, 'jsr_worker_busy_runners') === 2 && sample(text, 'jsr_worker_queue_length') === 1;
      }, 'two busy runners and one queued run');
      await waitFor(async () => {
        const text = await metricsText(t);
        return sample(text, 'jsr_worker_busy_runners') === 0 && sample(text, 'jsr_worker_queue_length') === 0;
      }, 'the runs to end');
    });

    it('counts refused logins by reason', async () => {
      const before = sample(await metricsText(t), 'jsr_login_refusals_total{reason="invalid_credentials"}') ?? 0;
      await rpc(t.app, call('token_get', { token: 'nobody|wrong-password' }));
      await rpc(t.app, call('token_get', { token: `${keyOf(t.superToken)}:wrong` }));
      expect(sample(await metricsText(t), 'jsr_login_refusals_total{reason="invalid_credentials"}')).toBe(before + 2);
    });

    it('counts the rows retention deletes', async () => {
      const set = await rpc(t.app, call('js-result_retention_set', { token: t.superToken, js_worker: 'obs_ret', keep_last: 1 }));
      expect(set.body.error).toBeUndefined();
      await seed(t.dataSource, [1, 2, 3].map((n) => ({ jsWorkerName: 'obs_ret', startTime: n, finishTime: n + 1, result: n })));
      const before = sample(await metricsText(t), 'jsr_retention_deleted_total') ?? 0;
      expect(await t.app.get(RetentionSweeper).sweepOnce()).toBe(2);
      expect(sample(await metricsText(t), 'jsr_retention_deleted_total')).toBe(before + 2);
    });

    it('shows the counter of subscribers closed for being too slow', async () => {
      expect(sample(await metricsText(t), 'jsr_subscribers_closed_total')).toBe(0);
    });
  });

  describe('METRICS_PORT', () => {
    let t: TestApp | undefined;
    const token = 'scrape-me-0123456789';

    beforeAll(async () => {
      t = await start({ metrics: { port: 0, token } });
    });

    afterAll(() => t?.close());

    const scrape = (port: number, path: string, authorization?: string) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        httpGet({ host: '127.0.0.1', port, path, headers: authorization ? { authorization } : {} }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        }).on('error', reject);
      });

    it('serves /metrics on its own listener only, still behind METRICS_TOKEN', async () => {
      const port = t!.app.get(MetricsServer).port!;
      expect(port).toEqual(expect.any(Number));
      const served = await scrape(port, '/metrics', `Bearer ${token}`);
      expect(served.status).toBe(200);
      expect(served.text).toContain('jsr_build_info');
      expect((await scrape(port, '/metrics')).status).toBe(401);
      expect((await scrape(port, '/')).status).toBe(404);
      const publicPort = await request(t!.app.getHttpServer()).get('/metrics').set('Authorization', `Bearer ${token}`);
      expect(publicPort.status).toBe(404);
    });

    it('closes its listener with the application', async () => {
      const port = t!.app.get(MetricsServer).port!;
      expect((await scrape(port, '/metrics', `Bearer ${token}`)).status).toBe(200);
      const closing = t!;
      t = undefined;
      await closing.close();
      await expect(scrape(port, '/metrics')).rejects.toThrow();
    });
  });
});
