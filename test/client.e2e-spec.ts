import type { AddressInfo } from 'node:net';
import { createClient, JsonRpcError, METHOD_PARAMS, type RpcClient, RpcTransportError } from '../src/client';
import { OpenRpcDocumentProvider } from '../src/json-rpc/openrpc.document';
import { JsResultSubscriptionsService } from '../src/result-events/js-result-subscriptions.service';
import { T0, TWO_WORKERS } from './support/fixtures';
import { countRows, seed, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';
import { TcpProxy } from './support/tcp-proxy';

/** The typed client against the real service, over HTTP and WebSocket. */
describe(`The typed client (${backendName})`, () => {
  let t: TestApp;
  let base: string;
  const clients: RpcClient[] = [];
  const client = (url: string, token?: string) => {
    const sut = createClient({ url, token, timeoutMs: 5_000, maxReconnectDelayMs: 200 });
    clients.push(sut);
    return sut;
  };

  beforeAll(async () => {
    t = await startTestApp();
    await t.app.listen(0, '127.0.0.1');
    base = `127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  });

  beforeEach(async () => {
    await t.dataSource.query('DELETE FROM js_result');
    await seed(t.dataSource, TWO_WORKERS);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await t.close();
  });

  it('has the methods of the OpenRPC document, with their params in the same order', () => {
    const document = t.app.get(OpenRpcDocumentProvider).document;
    const described = Object.fromEntries(document.methods.map((m) => [m.name, m.params.map((p) => p.name)]));
    expect(METHOD_PARAMS).toEqual(described);
  });

  it.each(['http', 'ws'])('calls a method over %s with the client token, and with a per-call token', async (scheme) => {
    const sut = client(`${scheme}://${base}/`, t.superToken);
    expect((await sut.methods['js-result_query']({ query: { condition: [{ js_worker_name: 'a' }] } })).map((r) => r.result)).toEqual([2, 1]);
    const onlyB = await t.token([{ scopes: [{ js_worker: 'b' }], permissions: [{ js_result: { read: 'b' } }] }]);
    expect(await sut.call('js-result_count', { query: { condition: [] } }, { token: onlyB })).toEqual({ count: 1 });
  });

  it.each(['http', 'ws'])('answers a batch over %s call by call, with JsonRpcError carrying data', async (scheme) => {
    const sut = client(`${scheme}://${base}/nodeget/rpc`, t.superToken);
    const [counted, refused] = await sut.batch([
      { method: 'js-result_count', params: { query: { condition: [] } } },
      { method: 'js-result_delete', params: { query: { condition: [{ limit: -1 }] } } },
    ]);
    expect(counted).toEqual({ result: { count: 3 } });
    expect('error' in refused && refused.error).toMatchObject({
      code: -32602,
      message: 'Invalid params: query.condition[0].limit: expected an unsigned integer, got -1',
      data: { path: 'query.condition[0].limit' },
    });
    expect(await countRows(t.dataSource)).toBe(3);
  });

  it('keeps 64-bit integers exact both ways', async () => {
    const big = 9_007_199_254_740_993n;
    await t.dataSource.query(`UPDATE js_result SET js_worker_id = ${big} WHERE js_worker_name = 'b'`);
    const sut = client(`http://${base}/`, t.superToken);
    const [record] = await sut.call('js-result_query', { query: { condition: [{ js_worker_id: big }] } });
    expect(record.js_worker_id).toBe(big);
  });

  it('rejects with JsonRpcError on an error answer, and RpcTransportError on a URL that is not JSON-RPC', async () => {
    await expect(client(`http://${base}/`, 'nokey:nosecret').call('js-result_count', { query: { condition: [] } })).rejects.toEqual(
      new JsonRpcError(102, 'Permission denied: Invalid credentials'),
    );
    await expect(client(`http://${base}/openrpc.json`).call('nodeget-server_hello', {})).rejects.toBeInstanceOf(RpcTransportError);
    // The service refuses the upgrade on other paths: the open fails at once, not at the timeout.
    await expect(client(`ws://${base}/nowhere`).call('nodeget-server_hello', {})).rejects.toBeInstanceOf(RpcTransportError);
    expect(() => createClient({ url: 'ftp://example.com/' })).toThrow(RpcTransportError);
  });

  it('delivers a subscription as an async iterator, and resubscribes after the connection is lost', async () => {
    const proxy = new TcpProxy('127.0.0.1', Number(base.split(':')[1]));
    await proxy.start();
    const subscriptions = t.app.get(JsResultSubscriptionsService);
    const sut = client(`ws://127.0.0.1:${proxy.port}/`, t.superToken);
    const records = sut.subscribe({ condition: [{ js_worker_name: 'live' }] });
    const first = records.next();
    await waitFor(() => subscriptions.size === 1);
    await seed(t.dataSource, [{ jsWorkerName: 'live', startTime: T0, finishTime: T0 + 1, result: 'one' }]);
    expect((await first).value).toMatchObject({ js_worker_name: 'live', result: 'one' });

    await proxy.cut();
    await waitFor(() => subscriptions.size === 0);
    await proxy.start();
    await waitFor(() => subscriptions.size === 1);
    await seed(t.dataSource, [{ jsWorkerName: 'live', startTime: T0, finishTime: T0 + 2, result: 'two' }]);
    expect((await records.next()).value).toMatchObject({ result: 'two' });

    await records.return!();
    await waitFor(() => subscriptions.size === 0);
    await proxy.cut();
  });

  it('ends a refused subscription with its error', async () => {
    const sut = client(`ws://${base}/`, 'nokey:nosecret');
    const records = sut.subscribe({ condition: [{ js_worker_name: 'live' }] });
    await expect(records.next()).rejects.toEqual(new JsonRpcError(102, 'Permission denied: Invalid credentials'));
    expect(await records.next()).toEqual({ value: undefined, done: true });
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
