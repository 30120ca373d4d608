import { Agent, request } from 'node:http';

/**
 * What became of one JSON-RPC call: `ok`, the JSON-RPC error code, `http-NNN`
 * for a non-JSON reply, `net` when the connection failed or was cut, and
 * `timeout` when no reply came in time (a hang, counted apart from errors).
 */
export type Outcome = 'ok' | number | `http-${number}` | 'net' | 'timeout' | 'oversized';

export interface Reply {
  /** Milliseconds since the load's clock started. */
  sentAt: number;
  doneAt: number;
  /** One outcome per call: several for a batch. */
  outcomes: Outcome[];
  bytes: number;
}

/** Replies past this size are counted, not parsed: parsing them would make the client the thing that runs out of memory. */
const PARSE_LIMIT_BYTES = 64 * 1024 * 1024;

function outcomesOf(status: number, text: string, calls: number): Outcome[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return Array(calls).fill(`http-${status}`);
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  return items.map((item) => {
    const code = (item as { error?: { code?: unknown } } | null)?.error?.code;
    if (typeof code === 'number') return code;
    return item && typeof item === 'object' && 'result' in item ? 'ok' : (`http-${status}` as Outcome);
  });
}

export interface PostOptions {
  agent?: Agent;
  timeoutMs: number;
  /** How many calls the body holds: a failed batch counts one outcome per call. */
  calls?: number;
}

/** Posts one JSON-RPC body and never rejects: every failure is an outcome. */
export function post(url: string, body: string, options: PostOptions, clock: () => number): Promise<Reply> {
  const calls = options.calls ?? 1;
  const sentAt = clock();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcomes: Outcome[], bytes: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ sentAt, doneAt: clock(), outcomes, bytes });
    };
    const req = request(url, { method: 'POST', agent: options.agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes <= PARSE_LIMIT_BYTES) chunks.push(chunk);
        else chunks.length = 0;
      });
      res.on('end', () => {
        if (bytes > PARSE_LIMIT_BYTES) return finish(Array(calls).fill('oversized'), bytes);
        finish(outcomesOf(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), calls), bytes);
      });
      res.on('error', () => finish(Array(calls).fill('net'), bytes));
    });
    const timer = setTimeout(() => {
      finish(Array(calls).fill('timeout'), 0);
      req.destroy();
    }, options.timeoutMs);
    req.on('error', () => finish(Array(calls).fill('net'), 0));
    req.end(body);
  });
}

export interface LoopLoad {
  url: string;
  /** A function gives each request a body of its own (a flood of different accounts). */
  body: string | (() => string);
  calls?: number;
  concurrency: number;
  durationMs: number;
  timeoutMs: number;
  clock: () => number;
  /** Checked before each request: ends the load early. */
  until?: () => boolean;
  /** Pause after a failed connection, so a refused port is not hammered in a tight loop. */
  backoffMs?: number;
}

/** `concurrency` clients, each with one request in flight, for `durationMs`; every reply is kept. */
export async function loop(load: LoopLoad): Promise<Reply[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: load.concurrency });
  const replies: Reply[] = [];
  const end = load.clock() + load.durationMs;
  const client = async () => {
    while (load.clock() < end && !load.until?.()) {
      const body = typeof load.body === 'string' ? load.body : load.body();
      const reply = await post(load.url, body, { agent, timeoutMs: load.timeoutMs, calls: load.calls }, load.clock);
      replies.push(reply);
      if (reply.outcomes[0] === 'net') await new Promise((r) => setTimeout(r, load.backoffMs ?? 50));
    }
  };
  await Promise.all(Array.from({ length: load.concurrency }, client));
  agent.destroy();
  return replies;
}

/** A clock in milliseconds from now. */
export function startClock(): () => number {
  const origin = performance.now();
  return () => performance.now() - origin;
}

export function rpcBody(method: string, params: unknown, id: number | string = 1): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method, params });
}

export function batchBody(count: number, call: (i: number) => { method: string; params: unknown }): string {
  return JSON.stringify(Array.from({ length: count }, (_, i) => ({ jsonrpc: '2.0', id: i + 1, ...call(i) })));
}
