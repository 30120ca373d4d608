import type { WebSocket } from 'ws';
import { JsonRpcNodeGetGateway } from '../src/json-rpc/json-rpc.gateway';
import { DEFAULT_WS_LIMITS, WS_IDLE_CLOSE_CODE, WS_IDLE_CLOSE_REASON, WS_MAX_PAYLOAD } from '../src/json-rpc/ws-connection';
import { T0, TWO_WORKERS } from './support/fixtures';
import { call, countRows, queryParams, rpc, seed, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';
import { closeAllClients, WsRpcClient, wsUrl } from './support/ws-client';

const PATHS = ['/', '/nodeget/rpc'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** JSON-RPC over WebSocket on the HTTP port and paths (NodeGet's transport), with the off-the-shelf ws client. */
describe(`JSON-RPC over WebSocket (${backendName})`, () => {
  let t: TestApp;
  let q: (condition: unknown[]) => { token: string; query: { condition: unknown[] } };
  const connect = (path = '/nodeget/rpc') => WsRpcClient.connect(wsUrl(t.app, path));

  beforeAll(async () => {
    t = await startTestApp();
    await t.app.listen(0, '127.0.0.1');
    q = (condition) => queryParams(t.superToken, condition);
  });

  afterEach(() => closeAllClients());

  afterAll(async () => {
    await closeAllClients();
    await t.close();
  });

  beforeEach(async () => {
    await t.dataSource.query('DELETE FROM js_result');
    await seed(t.dataSource, TWO_WORKERS);
  });

  it.each(PATHS)('answers a call on %s exactly as an HTTP post to the same path', async (path) => {
    const request = call('js-result_query', q([]), 7);
    const client = await connect(path);
    const overWs = await client.call(request);
    expect(overWs.result.map((r: any) => r.result)).toEqual([3, 2, 1]);
    expect(overWs).toEqual((await rpc(t.app, request, path)).body);
  });

  it('refuses an upgrade on any other path', async () => {
    await expect(WsRpcClient.connect(wsUrl(t.app, '/nodeget'))).rejects.toThrow();
    await expect(WsRpcClient.connect(wsUrl(t.app, '/health'))).rejects.toThrow();
  });

  it('answers a batch with one frame holding every reply, each with its id', async () => {
    const client = await connect();
    const reply = await client.call([
      call('js-result_query', q([{ js_worker_name: 'a' }]), 'x'),
      call('no_such_method', {}, 2),
      { jsonrpc: '2.0', method: 'js-result_query', params: q([]) },
    ]);
    expect(reply).toHaveLength(2);
    const byId = new Map(reply.map((r: any) => [r.id, r]));
    expect((byId.get('x') as any).result.map((r: any) => r.result)).toEqual([2, 1]);
    expect((byId.get(2) as any).error.code).toBe(-32601);
  });

  it('runs a batch of notifications without answering, then answers the next call', async () => {
    const client = await connect();
    client.send([
      { jsonrpc: '2.0', method: 'js-result_delete', params: q([{ js_worker_name: 'a' }]) },
      { jsonrpc: '2.0', method: 'js-result_query', params: q([]) },
    ]);
    await client.expectSilence(300);
    expect(await countRows(t.dataSource)).toBe(1);
    const reply = await client.call(call('js-result_query', q([]), 9));
    expect(reply).toEqual({ jsonrpc: '2.0', id: 9, result: [expect.objectContaining({ js_worker_name: 'b' })] });
  });

  it('authorises each call of a batch on its own token', async () => {
    const [key] = t.superToken.split(':');
    const client = await connect();
    const reply = await client.call([
      call('js-result_query', q([{ js_worker_name: 'b' }]), 1),
      call('js-result_query', queryParams(`${key}:wrong`, []), 2),
    ]);
    const byId = new Map(reply.map((r: any) => [r.id, r]));
    expect((byId.get(1) as any).result).toHaveLength(1);
    expect((byId.get(2) as any).error).toEqual({ code: 102, message: 'Permission denied: Invalid credentials' });
  });

  it('answers a frame that is not JSON with -32700 and keeps the connection open', async () => {
    const client = await connect();
    expect(await client.call('{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]')).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32700, message: 'Parse error: the body is not valid JSON' },
    });
    expect((await client.call(call('js-result_query', q([]), 3))).result).toHaveLength(3);
  });

  it('reads a binary frame as UTF-8 text', async () => {
    const client = await connect('/');
    client.sendBinary(JSON.stringify(call('js-result_query', q([{ js_worker_name: 'b' }]), 'bin')));
    const reply = await client.next();
    expect(reply).toMatchObject({ id: 'bin', result: [{ js_worker_name: 'b' }] });
    client.sendBinary('not json');
    expect((await client.next()).error.code).toBe(-32700);
  });

  it('closes the connection with 1009 on a frame larger than 4 MiB, and serves new ones', async () => {
    const client = await connect();
    client.send(`"${'x'.repeat(WS_MAX_PAYLOAD)}"`);
    expect((await client.closed).code).toBe(1009);
    const again = await connect();
    expect((await again.call(call('js-result_query', q([]), 1))).result).toHaveLength(3);
  });

  it('answers 200 concurrent connections, each its own call', async () => {
    const clients = await Promise.all(Array.from({ length: 200 }, (_, i) => connect(PATHS[i % 2])));
    const replies = await Promise.all(
      clients.map((client, i) => client.call(call('js-result_query', q([{ js_worker_name: i % 2 ? 'a' : 'b' }]), i), 30_000)),
    );
    replies.forEach((reply, i) => {
      expect(reply.id).toBe(i);
      expect(reply.result).toHaveLength(i % 2 ? 2 : 1);
    });
    await Promise.all(clients.map((client) => client.close()));
  });

  it('answers the calls of one connection concurrently, each reply with its id', async () => {
    const client = await connect();
    const ids = Array.from({ length: 40 }, (_, i) => i);
    for (const id of ids) client.send(call('js-result_query', q([{ limit: (id % 3) + 1 }]), id));
    const replies = await Promise.all(ids.map(() => client.next()));
    expect(replies.map((r) => r.id).sort((x, y) => x - y)).toEqual(ids);
    for (const reply of replies) expect(reply.result).toHaveLength((reply.id % 3) + 1);
  });

  it('drops a client that does not read its replies instead of buffering them, and goes on answering others', async () => {
    // 2000 rows of about 1 KiB: each reply is about 2.3 MB, so 1000 unread replies would be 2.3 GB.
    await seed(t.dataSource, Array.from({ length: 2000 }, (_, i) => ({ jsWorkerName: 'big', startTime: T0 + 10 + i, result: { pad: 'p'.repeat(1000), i } })));
    const request = (id: number) => call('js-result_query', q([{ js_worker_name: 'big' }, { limit: 10000 }]), id);
    const gateway = t.app.get(JsonRpcNodeGetGateway);
    const before = new Set(gateway.clients);
    const slow = await connect('/nodeget/rpc');
    const serverSide = [...gateway.clients].find((c) => !before.has(c)) as WebSocket;
    expect(serverSide).toBeDefined();
    // What the server holds for that client, unsent, right after each reply it queues.
    let sent = 0;
    let maxBuffered = 0;
    const send = serverSide.send.bind(serverSide);
    serverSide.send = ((...args: Parameters<WebSocket['send']>) => {
      send(...args);
      sent++;
      maxBuffered = Math.max(maxBuffered, serverSide.bufferedAmount);
    }) as WebSocket['send'];
    const other = await connect('/');
    const replySize = (await other.callText(request(0))).length;
    expect(replySize).toBeGreaterThan(2 * 1024 * 1024);

    const rssBefore = process.memoryUsage().rss;
    slow.socket.pause();
    const calls = 1000;
    for (let id = 1; id <= calls; id++) slow.send(request(id));
    const meanwhile = other.call(call('js-result_query', q([{ js_worker_name: 'b' }]), 'meanwhile'), 60_000);
    await waitFor(() => serverSide.readyState === serverSide.CLOSED, 60_000, 'the server to drop the client that does not read');
    const rssGrowth = process.memoryUsage().rss - rssBefore;

    // Unsent replies never went past the bound by more than the one reply that crossed it, and
    // once a few were unsent no further frame was started: far from all 1000 replies were made.
    expect(maxBuffered).toBeLessThanOrEqual(DEFAULT_WS_LIMITS.maxBufferedBytes + replySize);
    expect(sent).toBeLessThanOrEqual(DEFAULT_WS_LIMITS.maxFramesInFlight + Math.ceil(DEFAULT_WS_LIMITS.pauseAboveBufferedBytes / replySize) + 1);
    // Loose: on the embedded backend the database's own memory (in this process) grows with the queries.
    expect(rssGrowth).toBeLessThan(512 * 1024 * 1024);
    expect(gateway.clients.has(serverSide)).toBe(false);

    // The slow client, reading again, sees the connection end abruptly (no close frame: 1006).
    slow.socket.resume();
    expect((await slow.closed).code).toBe(1006);

    expect((await meanwhile).result).toHaveLength(1);
    expect((await other.call(call('js-result_query', q([{ js_worker_name: 'a' }]), 'after'))).result).toHaveLength(2);
  });
});

describe(`JSON-RPC over WebSocket: idle connections (${backendName})`, () => {
  const IDLE_MS = 400;
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ wsIdleTimeoutMs: IDLE_MS });
    await t.app.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    await closeAllClients();
    await t.close();
  });

  it('keeps a connection that sends frames and closes it once it has been idle for WS_IDLE_TIMEOUT_MS', async () => {
    const client = await WsRpcClient.connect(wsUrl(t.app, '/nodeget/rpc'));
    let closedAt = 0;
    void client.closed.then(() => (closedAt = Date.now()));
    // Three idle timeouts long, never idle for one.
    let lastCallAt = 0;
    for (let i = 0; i < 6; i++) {
      expect((await client.call(call('js-result_query', queryParams(t.superToken, []), i))).id).toBe(i);
      lastCallAt = Date.now();
      await sleep(IDLE_MS / 2);
    }
    expect(closedAt).toBe(0);
    expect(await client.closed).toEqual({ code: WS_IDLE_CLOSE_CODE, reason: WS_IDLE_CLOSE_REASON });
    expect(closedAt - lastCallAt).toBeGreaterThanOrEqual(IDLE_MS - 100);
    expect(closedAt - lastCallAt).toBeLessThan(IDLE_MS * 3);
  });

  it('closes a connection that never sends anything', async () => {
    const started = Date.now();
    const client = await WsRpcClient.connect(wsUrl(t.app, '/'));
    expect((await client.closed).code).toBe(WS_IDLE_CLOSE_CODE);
    expect(Date.now() - started).toBeGreaterThanOrEqual(IDLE_MS - 20);
  });
});
