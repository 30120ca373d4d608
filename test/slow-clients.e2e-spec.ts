import 'reflect-metadata';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { DEFAULT_HTTP_LIMITS, DEFAULT_RESPONSE_LIMITS, type HttpLimits } from '../src/config/app.config';
import { call, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';

const MiB = 1024 * 1024;

/**
 * The HTTP connection budget against clients that hold connections: header
 * and body timeouts, replies a client does not take, the cap on open
 * connections and on requests per keep-alive connection. Each is set small
 * here; the service's defaults are in DEFAULT_HTTP_LIMITS.
 */
const LIMITS: HttpLimits = {
  ...DEFAULT_HTTP_LIMITS,
  headersTimeoutMs: 600,
  requestTimeoutMs: 1_200,
  // Room for a reader on a busy machine to take a reply of over 20 MiB; a client that reads nothing still waits it out.
  sendTimeoutMs: 3_000,
  maxConnections: 6,
  maxRequestsPerSocket: 3,
};
/** Node checks header and request timeouts once a second (app.factory). */
const CHECK_INTERVAL_MS = 1_000;

interface Opened {
  socket: Socket;
  /** Everything the server sent. */
  received(): string;
  /** Milliseconds from connecting until the server ended the connection. */
  closed: Promise<number>;
}

function open(port: number): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1');
    const closed = new Promise<number>((done) => socket.once('close', () => done(Date.now() - started)));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, closed, received: () => Buffer.concat(chunks).toString('latin1') }));
    socket.once('error', reject);
  });
}

const post = (body: string, extra = '') =>
  `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe(`slow clients and the HTTP connection budget (${backendName})`, () => {
  let t: TestApp;
  let port: number;
  let readBody: string;

  beforeAll(async () => {
    t = await startTestApp({ http: LIMITS, responses: { ...DEFAULT_RESPONSE_LIMITS, maxCallResponseBytes: 64 * MiB, maxResponseBytes: 64 * MiB, largeReadMemoryBytes: 64 * MiB } });
    await t.app.listen(0, '127.0.0.1');
    port = (t.app.getHttpServer().address() as AddressInfo).port;
    // About 3 kB a record: 8,000 of them are 24 MB, more than the kernel's socket buffers hold for a client that does not read.
    await t.dataSource.query(
      `INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time, error_message)
       SELECT 1, 'big', 'call', g, repeat('x', 3000) FROM generate_series(1, 8000) g`,
    );
    await t.dataSource.query(`INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time) VALUES (2, 'small', 'call', 1)`);
    readBody = JSON.stringify(call('js-result_query', { token: t.superToken, query: { condition: [{ js_worker_name: 'small' }] } }));
  });

  afterAll(async () => {
    await t?.close();
  });

  function openConnections(): Promise<number> {
    return new Promise((resolve, reject) => t.app.getHttpServer().getConnections((error, count) => (error ? reject(error) : resolve(count))));
  }

  /** An ordinary client's read, over a connection of its own, still answered. */
  async function served(): Promise<void> {
    const client = await open(port);
    client.socket.write(post(readBody, 'Connection: close\r\n'));
    await client.closed;
    expect(client.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(client.received()).toContain('"js_worker_name":"small"');
  }

  it('cuts a client that sends its headers too slowly, after HTTP_HEADERS_TIMEOUT_MS', async () => {
    const dribbler = await open(port);
    dribbler.socket.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    const timer = setInterval(() => dribbler.socket.writable && dribbler.socket.write('a'), 100);
    try {
      const after = await dribbler.closed;
      expect(after).toBeGreaterThanOrEqual(LIMITS.headersTimeoutMs - 50);
      expect(after).toBeLessThan(LIMITS.headersTimeoutMs + CHECK_INTERVAL_MS + 1_000);
      // Node answers 408 as it closes; no request was run.
      expect(dribbler.received()).toMatch(/^(HTTP\/1\.1 408 |$)/);
    } finally {
      clearInterval(timer);
    }
    await served();
  });

  it('cuts a client that stalls in the middle of its body, after HTTP_REQUEST_TIMEOUT_MS', async () => {
    const staller = await open(port);
    staller.socket.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{"jsonrpc":"2.0",');
    const after = await staller.closed;
    expect(after).toBeGreaterThanOrEqual(LIMITS.requestTimeoutMs - 50);
    expect(after).toBeLessThan(LIMITS.requestTimeoutMs + CHECK_INTERVAL_MS + 1_000);
    expect(staller.received()).not.toContain('jsonrpc');
    await served();
  });

  it('drops a client that does not take its reply within HTTP_SEND_TIMEOUT_MS, and keeps one that reads it', async () => {
    const body = JSON.stringify(call('js-result_query', { token: t.superToken, query: { condition: [{ js_worker_name: 'big' }, { limit: 8000 }] } }));
    const reader = await open(port);
    reader.socket.write(post(body, 'Connection: close\r\n'));
    await reader.closed;
    const whole = reader.received();
    expect(whole).toMatch(/^HTTP\/1\.1 200 /);
    const replyBytes = Number(/content-length: (\d+)/i.exec(whole)?.[1]);
    expect(replyBytes).toBeGreaterThan(20 * MiB);
    expect(whole.length).toBeGreaterThan(replyBytes);

    const before = await openConnections();
    const nonReader = await open(port);
    nonReader.socket.pause();
    await waitUntil(async () => (await openConnections()) === before + 1, 'the server to accept the connection');
    const sentAt = Date.now();
    nonReader.socket.write(post(body));
    // The server's side of the connection: gone once it gave up on the reply.
    await waitUntil(async () => (await openConnections()) === before, 'the server to drop the client that does not read', 20_000);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(LIMITS.sendTimeoutMs);
    // Reading again, the client finds the reply cut short: the rest was dropped, not kept for it.
    nonReader.socket.resume();
    await nonReader.closed;
    expect(nonReader.received().length).toBeLessThan(replyBytes);
    await served();
  }, 60_000);

  it('closes connections past HTTP_MAX_CONNECTIONS at once, and accepts again when one ends', async () => {
    const held = await Promise.all(Array.from({ length: LIMITS.maxConnections }, () => open(port)));
    // Each held connection is accepted (it answers a request) before the next one is tried.
    for (const client of held) {
      client.socket.write(post(readBody));
      await waitForText(client, '"js_worker_name":"small"');
    }
    const extra = await open(port);
    expect(await extra.closed).toBeLessThan(1_000);
    expect(extra.received()).toBe('');

    held[0].socket.destroy();
    await held[0].closed;
    await sleep(50);
    await served();
    for (const client of held) client.socket.destroy();
    await Promise.all(held.map((c) => c.closed));
  });

  it('ends keep-alive after HTTP_MAX_REQUESTS_PER_SOCKET requests: the last reply says close, and nothing more is run', async () => {
    const client = await open(port);
    for (let i = 1; i <= LIMITS.maxRequestsPerSocket; i++) {
      client.socket.write(post(readBody));
      await waitForText(client, '"js_worker_name":"small"', i);
    }
    const replies = () => client.received().split('HTTP/1.1 ').slice(1);
    expect(replies()).toHaveLength(LIMITS.maxRequestsPerSocket);
    expect(replies()[0]).toMatch(/connection: keep-alive/i);
    expect(replies().at(-1)).toMatch(/connection: close/i);
    // A client that goes on regardless is answered 503 or cut, never served.
    if (!client.socket.destroyed) client.socket.write(post(readBody));
    await Promise.race([client.closed, waitForText(client, 'HTTP/1.1 503 ')]);
    expect(client.received().split('"js_worker_name":"small"')).toHaveLength(LIMITS.maxRequestsPerSocket + 1);
    client.socket.destroy();
  });
});

async function waitUntil(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function waitForText(client: Opened, text: string, times = 1): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (client.received().split(text).length - 1 < times) {
    if (Date.now() > deadline) throw new Error(`no reply with ${text} (${times}) within 10 s; got ${client.received().slice(0, 200)}`);
    await sleep(5);
  }
}
