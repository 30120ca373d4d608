import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { DEFAULT_RESPONSE_LIMITS } from '../src/config/app.config';
import {
  JsResultSubscriptionsService,
  SLOW_SUBSCRIBER_CLOSE_CODE,
  SLOW_SUBSCRIBER_CLOSE_REASON,
} from '../src/result-events/js-result-subscriptions.service';
import { startServer } from './support/processes';
import { call, rpc, startTestApp, type TestApp } from './support/test-app';
import { backendName, createPostgresDatabase, LOCAL_POSTGRES_URL, postgresReachable } from './support/test-database';
import { closeAllClients, WsRpcClient, wsUrl } from './support/ws-client';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Numbers JSON.parse would change: beyond 2^64, beyond 2^53, a kept trailing zero, and one beyond float range. */
const EXACT_PARAM = '{"big": 12345678901234567890, "odd": 9007199254740993, "dec": 1.50, "huge": 1e400}';
/**
 * An array nested this deep: valid jsonb, and past what JSON.stringify can
 * recurse through (about 4,500 levels). PGlite's own stack fails now and then
 * storing 6,000 levels ("cannot drop portal"), so the embedded run uses 5,500.
 */
const DEEP = backendName === 'embedded' ? 5_500 : 6_000;
const deepArray = (depth = DEEP) => '['.repeat(depth) + ']'.repeat(depth);

/** Whether text is the deep array, said without printing 12,000 brackets on failure. */
const isDeep = (text: string) => (text === deepArray() ? 'the deep array' : `${text.length} chars: ${text.slice(0, 60)}…`);

/** Inserts one finished row by SQL, as another writer may, and returns its id. */
async function insertFinished(ds: DataSource, worker: string, param: string | null, result: string | null): Promise<string> {
  const [row] = await ds.query(
    `INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time, finish_time, param, result)
     VALUES (1, $1, 'call', 1, 2, $2::jsonb, $3::jsonb) RETURNING id`,
    [worker, param, result],
  );
  return String(row.id);
}

/** The raw JSON text of `"key":` in a reply, up to the record's next key: what the server wrote, not a parse of it. */
function rawField(text: string, key: 'param' | 'result', next: string): string {
  // The record's own `result` follows its `param` (a notification's params have a `result` too).
  const at = key === 'param' ? text.indexOf('"param":') : text.indexOf('"result":', text.indexOf('"param":'));
  const end = text.indexOf(`,"${next}":`, at);
  if (at < 0 || end < 0) throw new Error(`no ${key} in ${text.slice(0, 300)}`);
  return text.slice(at + key.length + 3, end);
}

/** Every reply and notification that carries a stored row copies its JSON text: exact numbers, any depth, one failure per call. */
describe(`result events with hostile rows (${backendName})`, () => {
  let t: TestApp;
  const connect = () => WsRpcClient.connect(wsUrl(t.app, '/nodeget/rpc'));

  async function subscribe(client: WsRpcClient, condition: unknown[]): Promise<string> {
    const reply = await client.call(call('js-result_subscribe', { token: t.superToken, query: { condition } }, 'sub'));
    expect(reply.error).toBeUndefined();
    return reply.result;
  }

  beforeAll(async () => {
    t = await startTestApp();
    await t.app.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    await closeAllClients();
    await t.close();
  });

  it('returns param exactly as js-result_query does, through js-result_wait and notifications', async () => {
    const client = await connect();
    const sub = await subscribe(client, [{ js_worker_name: 'exact_1' }]);
    const id = await insertFinished(t.dataSource, 'exact_1', EXACT_PARAM, EXACT_PARAM);
    const byQuery = await rpc(t.app, call('js-result_query', { token: t.superToken, query: { condition: [{ id: Number(id) }] } }));
    const byWait = await rpc(t.app, call('js-result_wait', { token: t.superToken, id: Number(id), timeout_ms: 0 }));
    const notification = await client.nextText();
    expect(notification.startsWith(`{"jsonrpc":"2.0","method":"js-result_subscription","params":{"subscription":"${sub}","result":{"id":${id},`)).toBe(true);

    const queried = rawField(byQuery.text, 'param', 'result');
    for (const digits of ['12345678901234567890', '9007199254740993', '1.50']) expect(queried).toContain(digits);
    // jsonb keeps 1e400 as a numeric: its digits, not null.
    expect(queried).toMatch(/"huge": 10{400}\b/);
    expect(rawField(byWait.text, 'param', 'result')).toBe(queried);
    expect(rawField(notification, 'param', 'result')).toBe(queried);
    expect(rawField(byWait.text, 'result', 'error_message')).toBe(queried);
    expect(rawField(notification, 'result', 'error_message')).toBe(queried);
  });

  it('answers a wait on a deeply nested row inside a batch: every call keeps its own reply and id', async () => {
    const deep = await insertFinished(t.dataSource, 'deep_1', null, deepArray());
    const plain = await insertFinished(t.dataSource, 'deep_1', '{"p": 1}', '7');
    const batch = await rpc(t.app, [
      call('js-result_wait', { token: t.superToken, id: Number(deep), timeout_ms: 0 }, 'deep'),
      call('js-result_query', { token: t.superToken, query: { condition: [{ id: Number(plain) }] } }, 'query'),
      call('js-result_wait', { token: t.superToken, id: Number(plain), timeout_ms: 0 }, 'plain'),
    ]);
    expect(batch.status).toBe(200);
    expect(batch.body.map((reply: { id: string }) => reply.id)).toEqual(['deep', 'query', 'plain']);
    expect(batch.body.every((reply: object) => 'result' in reply)).toBe(true);
    expect(isDeep(rawField(batch.text, 'result', 'error_message'))).toBe('the deep array');
    expect(batch.body[1].result).toEqual([expect.objectContaining({ id: Number(plain), result: 7 })]);
    expect(batch.body[2].result).toMatchObject({ id: Number(plain), param: { p: 1 }, result: 7 });
  });

  it('sends a deeply nested row to subscribers, and keeps serving', async () => {
    const client = await connect();
    await subscribe(client, [{ js_worker_name: 'deep_2' }]);
    const id = await insertFinished(t.dataSource, 'deep_2', null, deepArray());
    const text = await client.nextText();
    expect(text).toContain(`"result":{"id":${id},`);
    expect(isDeep(rawField(text, 'result', 'error_message'))).toBe('the deep array');
    expect((await client.call(call('js-result_wait', { token: t.superToken, id: Number(id), timeout_ms: 0 }, 'after'))).id).toBe('after');
  });
});

/** Large rows are measured in the database and refused before they are loaded. */
describe(`result events held to the reply budget (${backendName})`, () => {
  const CALL_LIMIT = 64 * 1024;
  let t: TestApp;
  /** The bytes of every database answer the app received while this is set. */
  let received: number[] | undefined;
  const connect = () => WsRpcClient.connect(wsUrl(t.app, '/nodeget/rpc'));
  const big = () => `{"blob": "${'x'.repeat(300 * 1024)}"}`;

  beforeAll(async () => {
    t = await startTestApp({ responses: { ...DEFAULT_RESPONSE_LIMITS, maxCallResponseBytes: CALL_LIMIT } });
    await t.app.listen(0, '127.0.0.1');
    const query = t.dataSource.query.bind(t.dataSource);
    jest.spyOn(t.dataSource, 'query').mockImplementation(async (...args: Parameters<DataSource['query']>) => {
      const rows = await query(...args);
      received?.push(Buffer.byteLength(JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? String(v) : v)) ?? ''));
      return rows;
    });
  });

  afterAll(async () => {
    await closeAllClients();
    await t.close();
  });

  it('refuses a wait on a row over MAX_CALL_RESPONSE_BYTES with 108 naming its size, without loading it', async () => {
    const id = await insertFinished(t.dataSource, 'big_1', big(), null);
    received = [];
    const reply = await rpc(t.app, call('js-result_wait', { token: t.superToken, id: Number(id), timeout_ms: 0 }, 'w'));
    const loaded = received;
    received = undefined;
    expect(reply.body.id).toBe('w');
    expect(reply.body.error.code).toBe(108);
    expect(reply.body.error.message).toMatch(
      new RegExp(`^Invalid input: the answer would be (\\d+) bytes, over the MAX_CALL_RESPONSE_BYTES limit of ${CALL_LIMIT} bytes per call; ask for less`),
    );
    expect(Number(/would be (\d+) bytes/.exec(reply.body.error.message)![1])).toBeGreaterThan(300 * 1024);
    expect(Math.max(...loaded)).toBeLessThan(4 * 1024);
    // Nothing changed: the row is still there, whole.
    const [{ n }] = await t.dataSource.query('SELECT octet_length(param::text) AS n FROM js_result WHERE id = $1', [id]);
    expect(Number(n)).toBeGreaterThan(300 * 1024);
  });

  it('sends subscribers a short 108 notification for a row over the limit, and the rows around it whole', async () => {
    const client = await connect();
    const sub = (await client.call(call('js-result_subscribe', { token: t.superToken, query: { condition: [{ js_worker_name: 'big_2' }] } }))).result;
    received = [];
    const small = await insertFinished(t.dataSource, 'big_2', '1', '2');
    const large = await insertFinished(t.dataSource, 'big_2', big(), null);
    const first = await client.next();
    const second = await client.next();
    const loaded = received;
    received = undefined;
    expect(first.params).toMatchObject({ subscription: sub, result: { id: Number(small), param: 1, result: 2 } });
    expect(second.params).toEqual({
      subscription: sub,
      id: Number(large),
      js_worker_name: 'big_2',
      error: { code: 108, message: expect.stringMatching(new RegExp(`^Invalid input: the record would be \\d+ bytes, over the MAX_CALL_RESPONSE_BYTES limit of ${CALL_LIMIT} bytes per call; it is not sent$`)) },
    });
    expect(Math.max(...loaded)).toBeLessThan(4 * 1024);
  });
});

/** SUBSCRIPTION_MAX_QUEUED_BYTES: the slowest subscriber is closed with a reason; the others keep theirs. */
describe(`subscription fan-out bound (${backendName})`, () => {
  /** Open subscribers past 2 MiB unread are closed; those being closed may hold 4 MiB to read up to their close frame. */
  const BOUND = 6 * 1024 * 1024;
  const ROWS = 20;
  let t: TestApp;
  let service: JsResultSubscriptionsService;

  beforeAll(async () => {
    t = await startTestApp({ responses: { ...DEFAULT_RESPONSE_LIMITS, subscriptionMaxQueuedBytes: BOUND } });
    await t.app.listen(0, '127.0.0.1');
    service = t.app.get(JsResultSubscriptionsService);
  });

  afterAll(async () => {
    await closeAllClients();
    await t.close();
  });

  it('closes the subscriber with the most unread (1013 and the reason), never the process, and serves the reader', async () => {
    const url = wsUrl(t.app, '/nodeget/rpc');
    const slow = await WsRpcClient.connect(url);
    const reader = await WsRpcClient.connect(url);
    for (let i = 0; i < 100; i++) {
      expect((await slow.call(call('js-result_subscribe', { token: t.superToken, query: { condition: [] } }, i))).result).toEqual(expect.any(String));
    }
    expect((await reader.call(call('js-result_subscribe', { token: t.superToken, query: { condition: [] } }))).result).toEqual(expect.any(String));
    expect(service.size).toBe(101);
    slow.socket.pause();
    // 20 rows of 40 kB, each to 100 subscriptions of the slow client: 80 MB it does not read.
    await t.dataSource.query(
      `INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time, finish_time, result)
       SELECT 1, 'fan_1', 'call', s, s + 1, to_jsonb(repeat('y', 40000)) FROM generate_series(1, ${ROWS}) AS s`,
    );
    await waitFor(() => service.size === 1, 'the slow subscriber to be closed');
    slow.socket.resume();
    expect(await slow.closed).toEqual({ code: SLOW_SUBSCRIBER_CLOSE_CODE, reason: SLOW_SUBSCRIBER_CLOSE_REASON });
    for (let i = 0; i < ROWS; i++) expect((await reader.next()).params.result.js_worker_name).toBe('fan_1');
    expect((await rpc(t.app, call('js-result_count', { token: t.superToken, query: { condition: [{ js_worker_name: 'fan_1' }] } }))).body.result).toEqual({ count: ROWS });
  });
});

/** The built server, as operators run it: a poisoned row reaches subscribers and waiters, and the process lives on. */
describe('a deep row through the real server process (postgres)', () => {
  it('keeps /health answering and gives the subscriber and the waiter their answers', async () => {
    if (!(await postgresReachable())) {
      console.warn('PostgreSQL is not reachable: the process-level test is skipped');
      return;
    }
    const db = await createPostgresDatabase(LOCAL_POSTGRES_URL);
    const url = (db.target as { url: string }).url;
    const server = await startServer({ DATABASE_URL: url });
    const sql = new Client({ connectionString: url });
    await sql.connect();
    try {
      const token = server.output().match(/^[A-Za-z0-9]{16}:[A-Za-z0-9]{32}$/m)![0];
      const client = await WsRpcClient.connect(`ws://127.0.0.1:${server.port}/`);
      expect((await client.call(call('js-result_subscribe', { token, query: { condition: [] } }, 's'))).result).toEqual(expect.any(String));
      const {
        rows: [row],
      } = await sql.query(
        `INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time, finish_time, result) VALUES (1, 'poison', 'call', 1, 2, $1::jsonb) RETURNING id`,
        [deepArray()],
      );
      const notification = await client.nextText();
      expect(notification).toContain(`"result":{"id":${row.id},`);
      expect(isDeep(rawField(notification, 'result', 'error_message'))).toBe('the deep array');
      const waited = await client.callText(call('js-result_wait', { token, id: Number(row.id), timeout_ms: 0 }, 'w'));
      expect(waited.startsWith(`{"jsonrpc":"2.0","id":"w","result":{"id":${row.id},`)).toBe(true);
      expect((await fetch(`http://127.0.0.1:${server.port}/health`)).status).toBe(200);
      await client.close();
      expect(server.output()).not.toMatch(/Maximum call stack|unhandled rejection|uncaught exception/);
    } finally {
      await sql.end();
      await server.stop();
      await db.drop();
    }
  }, 120_000);
});
