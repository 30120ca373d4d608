import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { JsResultWaitService } from '../src/result-events/js-result-wait.service';
import { startServer } from './support/processes';
import { type ProxiedApp, startAppBehindProxy } from './support/proxied-app';
import { createWorker, resultRow, runWorker } from './support/js-worker.helpers';
import { seed, startTestApp, type TestApp } from './support/test-app';
import {
  backendName,
  createPostgresDatabase,
  createTestDatabase,
  LOCAL_POSTGRES_URL,
  serverUrl,
  type TestDatabase,
} from './support/test-database';
import { closeAllClients, WsRpcClient, wsUrl } from './support/ws-client';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function baseUrl(app: NestFastifyApplication): string {
  const { port } = app.getHttpServer().address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

async function get(app: NestFastifyApplication, path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${baseUrl(app)}${path}`);
  return { status: res.status, body: await res.json() };
}

async function post(app: NestFastifyApplication, method: string, params: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${baseUrl(app)}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }),
  });
  return { status: res.status, body: await res.json() };
}

async function until(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const queryAll = (token: string) => ({ token, query: { condition: [{ limit: 1 }] } });

const BUSY = (ms: number) =>
  `export default { onCall() { const end = Date.now() + ${ms}; while (Date.now() < end) {} return 'done' } }`;

/** Storage that outlives one app: a real DATA_DIR on the embedded backend (memory:// would vanish), or one PG database. */
async function durableDatabase(): Promise<TestDatabase> {
  if (serverUrl) return createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'jsr-shutdown-'));
  return { target: { kind: 'embedded', dataDir }, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
}

/** Probes for orchestrators, and the shutdown sequence: not ready, drain, calls in flight answered, 1001, exit 0. */
describe(`health probes and shutdown (${backendName})`, () => {
  const open: TestApp[] = [];

  async function start(overrides: Parameters<typeof startTestApp>[0] = {}): Promise<TestApp> {
    const t = await startTestApp(overrides);
    open.push(t);
    await t.app.listen(0, '127.0.0.1');
    return t;
  }

  async function close(t: TestApp): Promise<void> {
    open.splice(open.indexOf(t), 1);
    await t.close();
  }

  afterEach(async () => {
    await closeAllClients();
    await Promise.all(open.splice(0).map((t) => t.close()));
  });

  it('answers live, ready and its alias /health with what readiness checked', async () => {
    const t = await start();
    expect(await get(t.app, '/health/live')).toEqual({ status: 200, body: expect.objectContaining({ status: 'ok' }) });
    for (const path of ['/health/ready', '/health']) {
      const { status, body } = await get(t.app, path);
      expect(status).toBe(200);
      expect(body.status).toBe('ok');
      expect(body.details).toMatchObject({
        shutdown: { status: 'up' },
        database: { status: 'up' },
        migrations: { status: 'up' },
        listeners: { status: 'up', tokenChanges: true, resultsFinished: true, crontabChanges: true },
      });
    }
  });

  it('is not ready as soon as shutdown starts, yet answers calls and stays live during the drain', async () => {
    const t = await start({ shutdown: { drainMs: 3_000, timeoutMs: 2_000 } });
    const closing = close(t);
    const ready = await get(t.app, '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.details.shutdown).toEqual({ status: 'down', message: 'shutting down' });
    expect((await get(t.app, '/health')).status).toBe(503);
    expect((await get(t.app, '/health/live')).status).toBe(200);
    const answered = await post(t.app, 'js-result_query', queryAll(t.superToken));
    expect(answered).toEqual({ status: 200, body: { jsonrpc: '2.0', id: 1, result: [] } });
    await closing;
  });

  it('finishes an HTTP call in flight at shutdown before it closes', async () => {
    const t = await start({ shutdown: { drainMs: 0, timeoutMs: 10_000 } });
    const [row] = await seed(t.dataSource, [{ jsWorkerName: 'slow', startTime: Date.now() }]);
    const waits = t.app.get(JsResultWaitService);
    const reply = post(t.app, 'js-result_wait', { token: t.superToken, id: row.id, timeout_ms: 30_000 });
    await until(() => waits.waiting > 0, 'the call to be waiting');
    const closing = close(t);
    let closed = false;
    void closing.then(() => (closed = true));
    await sleep(200);
    // The server is waiting for the call, not closing under it.
    expect(closed).toBe(false);
    await t.dataSource.query(`UPDATE js_result SET finish_time = $2, result = '"done"'::jsonb WHERE id = $1`, [row.id, Date.now()]);
    const { status, body } = await reply;
    expect(status).toBe(200);
    expect(body.result).toMatchObject({ id: row.id, result: 'done' });
    await closing;
  });

  it('answers a WebSocket call in flight, then closes the connection with 1001 (going away)', async () => {
    const t = await start({ shutdown: { drainMs: 0, timeoutMs: 10_000 } });
    const idle = await WsRpcClient.connect(wsUrl(t.app, '/nodeget/rpc'));
    const busy = await WsRpcClient.connect(wsUrl(t.app));
    expect((await idle.call({ jsonrpc: '2.0', method: 'js-result_query', params: queryAll(t.superToken), id: 1 })).result).toEqual([]);
    const [row] = await seed(t.dataSource, [{ jsWorkerName: 'slow', startTime: Date.now() }]);
    const waits = t.app.get(JsResultWaitService);
    busy.send({ jsonrpc: '2.0', method: 'js-result_wait', params: { token: t.superToken, id: row.id, timeout_ms: 30_000 }, id: 7 });
    await until(() => waits.waiting > 0, 'the call to be waiting');

    const closing = close(t);
    expect(await idle.closed).toEqual({ code: 1001, reason: 'server shutting down' });
    await t.dataSource.query(`UPDATE js_result SET finish_time = $2, result = '"done"'::jsonb WHERE id = $1`, [row.id, Date.now()]);
    const answer = await busy.next();
    expect(answer).toMatchObject({ id: 7, result: { id: row.id, result: 'done' } });
    expect(await busy.closed).toEqual({ code: 1001, reason: 'server shutting down' });
    await closing;
  });

  it('closes with 1001 a connection whose call outlasts SHUTDOWN_TIMEOUT_MS', async () => {
    const t = await start({ shutdown: { drainMs: 0, timeoutMs: 300 } });
    const busy = await WsRpcClient.connect(wsUrl(t.app));
    const [row] = await seed(t.dataSource, [{ jsWorkerName: 'slow', startTime: Date.now() }]);
    const waits = t.app.get(JsResultWaitService);
    busy.send({ jsonrpc: '2.0', method: 'js-result_wait', params: { token: t.superToken, id: row.id, timeout_ms: 30_000 }, id: 7 });
    await until(() => waits.waiting > 0, 'the call to be waiting');
    await close(t);
    expect(await busy.closed).toEqual({ code: 1001, reason: 'server shutting down' });
  });

  it('lets a JS worker run under way finish within SHUTDOWN_TIMEOUT_MS, and records its result', async () => {
    const database = await durableDatabase();
    try {
      const first = await startTestApp({ shutdown: { drainMs: 0, timeoutMs: 20_000 }, tokenCacheTtlMs: 0 }, database);
      await createWorker(first.app, first.superToken, 'short_run', BUSY(1_000));
      const { result } = await runWorker(first.app, first.superToken, 'short_run');
      await first.close();

      const second = await startTestApp({ tokenCacheTtlMs: 0 }, database);
      try {
        expect(await resultRow(second.app, second.superToken, result.id)).toMatchObject({ result: 'done', error_message: null });
      } finally {
        await second.close();
      }
    } finally {
      await database.drop();
    }
  });

  it('exits with code 0 on SIGTERM', async () => {
    const dataDir = serverUrl ? undefined : mkdtempSync(join(tmpdir(), 'jsr-sigterm-'));
    const database = serverUrl ? await createPostgresDatabase(LOCAL_POSTGRES_URL) : undefined;
    try {
      const env: Record<string, string> = database ? { DATABASE_URL: (database.target as { url: string }).url } : { DATA_DIR: dataDir! };
      const server = await startServer({ ...env, SHUTDOWN_DRAIN_MS: '0' });
      const client = await WsRpcClient.connect(`ws://127.0.0.1:${server.port}/`);
      process.kill(server.pid, 'SIGTERM');
      expect(await server.exited).toEqual({ code: 0, signal: null });
      expect((await client.closed).code).toBe(1001);
    } finally {
      await database?.drop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/**
 * Liveness must not follow the database: an orchestrator would restart a pod
 * that survives the outage by itself. The embedded database lives in the
 * process and cannot become unreachable, so this runs on PostgreSQL, through a
 * proxy the test cuts.
 */
describe('health probes during a database outage (postgres)', () => {
  let proxied: ProxiedApp | undefined;

  beforeAll(async () => {
    proxied = await startAppBehindProxy('probes during an outage test');
    await proxied?.t.app.listen(0, '127.0.0.1');
  });

  afterAll(async () => proxied?.close());

  it('stays live while not ready, and is ready again once the database is back', async () => {
    if (!proxied) return;
    const { t, proxy } = proxied;
    expect((await get(t.app, '/health/ready')).status).toBe(200);

    await proxy.cut();
    const ready = await get(t.app, '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.details.database.status).toBe('down');
    expect(JSON.stringify(ready.body)).not.toMatch(/127\.0\.0\.1|postgres:|5432|select/i);
    // The LISTEN connections notice the cut too (as a real outage would end them).
    const everyListenerDown = async () => {
      const listeners = (await get(t.app, '/health/ready')).body.details.listeners;
      return listeners.status === 'down' && !listeners.tokenChanges && !listeners.resultsFinished && !listeners.crontabChanges;
    };
    await until(everyListenerDown, 'every listener to be down');
    expect(await get(t.app, '/health/live')).toEqual({ status: 200, body: expect.objectContaining({ status: 'ok' }) });

    await proxy.start();
    await until(async () => (await get(t.app, '/health/ready')).status === 200, 'readiness to come back', 20_000);
  });
});
