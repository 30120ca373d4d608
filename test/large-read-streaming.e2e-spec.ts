import 'reflect-metadata';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_HTTP_LIMITS, DEFAULT_RESPONSE_LIMITS } from '../src/config/app.config';
import { call, rpc, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';
import { closeAllClients, WsRpcClient, wsUrl } from './support/ws-client';

/**
 * Reads above the default cap (1000 rows) are streamed on PostgreSQL (a
 * cursor, a batch at a time, sent with back-pressure) and assembled on the
 * embedded database: either way the reply is byte for byte what short reads
 * give for the same rows, its budget is enforced before anything is sent,
 * and a client that leaves or stops reading gives its connection back.
 */
const ROWS = 12_500;
/** Rows past the 1000 of a short read whose values are a few KiB: enough for a reply the socket does not take at once. */
const WIDE_ROWS = 4_000;
const POOL_SIZE = 3;
const SEND_TIMEOUT_MS = 1_500;

interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

describe(`large reads streamed (${backendName})`, () => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    t = await startTestApp({
      poolSize: POOL_SIZE,
      responses: { ...DEFAULT_RESPONSE_LIMITS, largeReadMaxConcurrent: 2 },
      http: { ...DEFAULT_HTTP_LIMITS, sendTimeoutMs: SEND_TIMEOUT_MS },
    });
    // Values that JSON writes in many ways: escapes, non-ASCII text, exact numbers, nulls, rows not started (NULL start_time).
    await t.dataSource.query(
      `INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time, finish_time, param, result, error_message)
       SELECT g % 7, 'w' || (g % 5), 'call', CASE WHEN g % 97 = 0 THEN NULL ELSE 1700000000000 + (g / 3) END, NULL,
         CASE WHEN g % 3 = 0 THEN NULL ELSE jsonb_build_object('n', g, 'big', 12345678901234567890, 'text', 'é"\\' || g) END,
         CASE WHEN g % 4 = 0 THEN to_jsonb(ARRAY[g, g * 2]) ELSE NULL END,
         CASE WHEN g % 5 = 0 THEN E'line\\n"quoted" ✓ ' || g ELSE NULL END
       FROM generate_series(1, ${ROWS}) g`,
    );
    await t.dataSource.query(
      `INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time, error_message)
       SELECT 9, 'wide', 'call', g, repeat('y', 3000) FROM generate_series(1, ${WIDE_ROWS}) g`,
    );
    await t.app.listen(0, '127.0.0.1');
    port = (t.app.getHttpServer().address() as AddressInfo).port;
  });

  afterAll(async () => {
    await closeAllClients();
    await t?.close();
  });

  const query = (condition: unknown[], id = 1, fields?: string[]) =>
    call('js-result_query', { token: t.superToken, query: { condition }, ...(fields ? { fields } : {}) }, id);
  const page = (condition: unknown[], pageSize: number, cursor?: string) =>
    call('js-result_page', { token: t.superToken, query: { condition }, page_size: pageSize, ...(cursor ? { cursor } : {}) });

  function post(body: unknown): Promise<RawReply> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'content-type': 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  }

  /** The records' JSON array text of a page reply, as it was written. */
  const itemsText = (pageReply: string) => pageReply.slice(pageReply.indexOf('"items":') + 8, pageReply.lastIndexOf(',"next_cursor":'));
  const resultText = (reply: string) => reply.slice(reply.indexOf('"result":') + 9, -1);

  /** Every record matching `condition`, newest first, walked in short pages (records written here from rows), as one array text. */
  async function walkedText(condition: unknown[], pageSize = 1000): Promise<string> {
    const parts: string[] = [];
    let cursor: string | undefined;
    do {
      const reply = await post(page(condition, pageSize, cursor));
      parts.push(itemsText(reply.text).slice(1, -1));
      cursor = (JSON.parse(reply.text) as { result: { next_cursor: string | null } }).result.next_cursor ?? undefined;
    } while (cursor !== undefined);
    return `[${parts.filter((part) => part.length > 0).join(',')}]`;
  }

  async function openTransactions(): Promise<number> {
    if (backendName !== 'postgres') return 0;
    const [row] = await t.dataSource.query<{ n: string }[]>(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
    );
    return Number(row.n);
  }

  it('answers a read of 10,000 rows with the records short reads give, byte for byte, and an exact Content-Length', async () => {
    const reply = await post(query([{ limit: 10_000 }]));
    expect(reply.status).toBe(200);
    expect(Number(reply.headers['content-length'])).toBe(Buffer.byteLength(reply.text));
    const streamed = resultText(reply.text);
    // Byte-exact against the short reads' own text (parsing would lose the 20-digit number).
    const walked = await walkedText([]);
    expect((JSON.parse(streamed) as unknown[]).length).toBe(10_000);
    expect(streamed).toBe(firstElements(walked, 10_000));
  });

  it('answers the same records with fields, and in a batch beside a short read, in order', async () => {
    const fields = ['id', 'param', 'error_message'];
    const alone = resultText((await post(query([{ limit: 5_000 }], 1, fields))).text);
    const short = resultText((await post(query([{ limit: 3 }], 2))).text);
    const batch = await post([query([{ limit: 3 }], 2), query([{ limit: 5_000 }], 1, fields)]);
    expect(batch.status).toBe(200);
    expect(Number(batch.headers['content-length'])).toBe(Buffer.byteLength(batch.text));
    const parsed = JSON.parse(batch.text) as { id: number }[];
    expect(parsed.map((r) => r.id)).toEqual([2, 1]);
    expect(batch.text).toBe(`[{"jsonrpc":"2.0","id":2,"result":${short}},{"jsonrpc":"2.0","id":1,"result":${alone}}]`);
    expect((JSON.parse(alone) as Record<string, unknown>[]).every((r) => Object.keys(r).join() === 'id,param,error_message')).toBe(true);
  });

  it('answers the same text over WebSocket, a whole message, and a page of 10,000 too', async () => {
    const client = await WsRpcClient.connect(wsUrl(t.app, '/'));
    for (const body of [query([{ limit: 10_000 }]), page([], 10_000)]) {
      const overHttp = (await post(body)).text;
      const overWs = await client.callText(body, 30_000);
      const cursorFree = (text: string) => text.replace(/"next_cursor":"[^"]*"/, '"next_cursor":"…"');
      expect(cursorFree(overWs)).toBe(cursorFree(overHttp));
    }
    await client.close();
  });

  it('walks every record in pages of 10,000, the cursor going on where each page stopped', async () => {
    const big = await walkedText([], 10_000);
    const small = await walkedText([], 1000);
    expect(big).toBe(small);
    expect((JSON.parse(big) as unknown[]).length).toBe(ROWS + WIDE_ROWS);
    const first = JSON.parse((await post(page([], 10_000))).text) as { result: { items: unknown[]; next_cursor: string | null } };
    expect(first.result.items).toHaveLength(10_000);
    expect(first.result.next_cursor).toEqual(expect.any(String));
    const last = JSON.parse((await post(page([{ js_worker_name: 'w1' }], 10_000))).text) as { result: { items: unknown[]; next_cursor: string | null } };
    expect(last.result.items).toHaveLength(ROWS / 5);
    expect(last.result.next_cursor).toBeNull();
  });

  it('refuses a read over MAX_CALL_RESPONSE_BYTES with the whole 108, nothing of the records sent', async () => {
    const small = await startTestApp({ responses: { ...DEFAULT_RESPONSE_LIMITS, maxCallResponseBytes: 1_000_000 } });
    try {
      await small.dataSource.query(
        `INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time, error_message)
         SELECT 1, 'w', 'call', g, repeat('x', 200) FROM generate_series(1, 6000) g`,
      );
      for (const body of [query([{ limit: 6_000 }]), page([], 6_000)]) {
        body.params = { ...(body.params as object), token: small.superToken };
        const reply = await rpc(small.app, body);
        expect(reply.status).toBe(200);
        expect(reply.body).toEqual({
          jsonrpc: '2.0',
          id: 1,
          error: {
            code: 108,
            message: expect.stringMatching(/^Invalid input: the answer would be \d+ bytes, over the MAX_CALL_RESPONSE_BYTES limit of 1000000 bytes per call; ask for less/),
            data: { limit: 'MAX_CALL_RESPONSE_BYTES', limit_bytes: 1_000_000, size_bytes: expect.any(Number) },
          },
        });
        expect(reply.text).not.toContain('xxxx');
      }
      // The connections went back: reads that fit still run, more of them than the pool has.
      for (let i = 0; i < 2 * POOL_SIZE; i++) {
        const body = query([{ limit: 2_000 }]);
        body.params = { ...(body.params as object), token: small.superToken };
        expect((await rpc(small.app, body)).body.result).toHaveLength(2_000);
      }
    } finally {
      await small.close();
    }
  });

  it('gives the connection back when the client leaves mid-reply, and when it stops reading', async () => {
    const wide = query([{ js_worker_name: 'wide' }, { limit: WIDE_ROWS }]);
    // Leaves once the first bytes arrived.
    for (let i = 0; i < POOL_SIZE + 1; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'content-type': 'application/json' } }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => undefined);
        req.on('close', () => resolve());
        req.setTimeout(10_000, () => reject(new Error('no reply')));
        req.end(JSON.stringify(wide));
      });
    }
    // Never reads: the server drops it after the send timeout.
    const stalled = await new Promise<() => void>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'content-type': 'application/json' } }, (res) => {
        res.pause();
        resolve(() => req.destroy());
      });
      req.on('error', () => undefined);
      req.end(JSON.stringify(wide));
    });
    await new Promise((resolve) => setTimeout(resolve, SEND_TIMEOUT_MS + 1_000));
    expect(await openTransactions()).toBe(0);
    stalled();
    // Every pooled connection is free: more large reads than the pool has connections run one after another.
    for (let i = 0; i < 2 * POOL_SIZE; i++) {
      const reply = await post(wide);
      expect((JSON.parse(reply.text) as { result: unknown[] }).result).toHaveLength(WIDE_ROWS);
    }
    expect(await openTransactions()).toBe(0);
  }, 60_000);
});

/** The array text of the first `n` elements of a JSON array text of records (objects, so `},{` separates them). */
function firstElements(arrayText: string, n: number): string {
  let at = 0;
  for (let i = 0; i < n; i++) {
    at = arrayText.indexOf('},{', at + 1);
    if (at === -1) return arrayText;
  }
  return `${arrayText.slice(0, at + 1)}]`;
}
