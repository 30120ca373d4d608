import { performance } from 'node:perf_hooks';
import { type RawData, WebSocket } from 'ws';
import type { RawRun } from './load';

/**
 * The WebSocket load generator (S8): `connections` clients, each with one
 * persistent connection, each sending a request, waiting for its reply and
 * sending the next (a closed loop, as autocannon's connections with
 * pipelining 1). It runs in the harness process, as autocannon does, so its
 * CPU time is counted as the load generator's.
 */
export interface WsLoad {
  /** `ws://host:port/path`. */
  url: string;
  /** The text frame of the request with this id: one JSON-RPC request (not a batch). Ids are unique within a run. */
  frame: (id: number) => string;
  connections: number;
  /** Requests are sent for this long; the replies still awaited then are waited for (up to `timeoutSec`). */
  durationSec: number;
  /** False for a reply that is not a success (a JSON-RPC `error`, say): it counts as an error. */
  verify: (reply: string) => boolean;
  /** A request unanswered for this long is an error; its connection is dropped and opened again. */
  timeoutSec?: number;
  /** At most this many requests are sent, by all clients together. */
  maxRequests?: number;
}

/** As autocannon's `timeout` in runHttpLoad. */
const DEFAULT_TIMEOUT_SEC = 30;
/** A client whose connection failed or closed waits this long before opening another. */
const RECONNECT_DELAY_MS = 50;
/** Time the closing handshakes get after the last client is done; sockets still open then are terminated. */
const CLOSE_GRACE_MS = 2_000;
/** Requests in one run whatever `maxRequests` says: far above what a slice can reach, it keeps memory bounded. */
const MAX_REQUESTS_PER_RUN = 50_000_000;

/**
 * Whether a reply answers request `id`. Both servers write `"jsonrpc"` then
 * `"id"` first, so the head of the reply tells; otherwise it is parsed.
 */
export function answers(reply: string, id: number): boolean {
  const head = reply.slice(0, 48);
  if (head.includes(`"id":${id},`) || head.includes(`"id":${id}}`)) return true;
  try {
    return (JSON.parse(reply) as { id?: unknown }).id === id;
  } catch {
    return false;
  }
}

function text(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}

/** What all clients of one run share: the clock, the counters, the numbers. */
class Run {
  readonly latenciesMs: number[] = [];
  errors = 0;
  sent = 0;
  nextId = 1;
  started = false;
  startedAt = 0;
  deadline = Infinity;
  lastReplyAt = 0;
  /** Set when the run is cut short (the hard time bound): no more sending, no more reconnecting. */
  aborted = false;
  readonly timeoutMs: number;
  readonly maxRequests: number;

  constructor(readonly load: WsLoad) {
    this.timeoutMs = (load.timeoutSec ?? DEFAULT_TIMEOUT_SEC) * 1000;
    this.maxRequests = Math.min(load.maxRequests ?? MAX_REQUESTS_PER_RUN, MAX_REQUESTS_PER_RUN);
  }

  canSend(): boolean {
    return !this.aborted && this.sent < this.maxRequests && performance.now() < this.deadline;
  }
}

/** One client: one connection at a time (another only if it fails), one request in flight. */
class Client {
  private socket?: WebSocket;
  /** Id of the request in flight; 0 when none is. */
  private expectedId = 0;
  private sentAt = 0;
  /** The connection is being closed on purpose: at the end, or dropped after a timeout or a wrong reply. */
  private closing = false;
  private dropped = false;
  private finished = false;
  private reconnectTimer?: NodeJS.Timeout;
  private onSettled?: () => void;
  private onFinished!: () => void;
  readonly done = new Promise<void>((resolve) => (this.onFinished = resolve));

  constructor(private readonly run: Run) {}

  /** Opens the connection; resolves once it is open or has failed (an error, counted). */
  connect(): Promise<void> {
    return new Promise((resolve) => {
      this.onSettled = resolve;
      this.open();
    });
  }

  /** The run has started: send the first request, or try to connect again if the first connection failed. */
  start(): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.sendNext();
    else if (!this.socket) this.retry();
  }

  /** A request in flight for longer than the timeout: an error; the connection is dropped and opened again. */
  checkTimeout(now: number): void {
    if (this.expectedId !== 0 && now - this.sentAt > this.run.timeoutMs) {
      this.run.errors++;
      this.drop();
    }
  }

  /** The hard time bound: whatever is open is terminated. */
  abort(): void {
    clearTimeout(this.reconnectTimer);
    if (this.socket) {
      this.closing = true;
      this.socket.terminate();
    }
    this.finish();
  }

  private open(): void {
    const socket = new WebSocket(this.run.load.url, { perMessageDeflate: false, handshakeTimeout: this.run.timeoutMs });
    this.socket = socket;
    // Every failure is followed by 'close', where it is counted.
    socket.on('error', () => undefined);
    socket.once('open', () => {
      this.settle();
      if (this.run.started) this.sendNext();
    });
    socket.on('message', (data) => this.onMessage(socket, data));
    socket.once('close', () => this.onClose(socket));
  }

  private settle(): void {
    this.onSettled?.();
    this.onSettled = undefined;
  }

  private sendNext(): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    if (!this.run.canSend()) {
      this.closing = true;
      socket.close(1000);
      return;
    }
    const id = this.run.nextId++;
    this.run.sent++;
    this.expectedId = id;
    this.sentAt = performance.now();
    socket.send(this.run.load.frame(id));
  }

  private onMessage(socket: WebSocket, data: RawData): void {
    const now = performance.now();
    if (socket !== this.socket || this.closing) return;
    const reply = text(data);
    if (this.expectedId === 0 || !answers(reply, this.expectedId)) {
      // A frame nobody asked for, or the reply to another request: the connection cannot be trusted.
      this.run.errors++;
      this.drop();
      return;
    }
    this.expectedId = 0;
    this.run.latenciesMs.push(now - this.sentAt);
    this.run.lastReplyAt = now;
    if (!this.run.load.verify(reply)) this.run.errors++;
    this.sendNext();
  }

  private drop(): void {
    this.expectedId = 0;
    this.dropped = true;
    this.socket?.terminate();
  }

  private onClose(socket: WebSocket): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    const unexpected = !this.closing && !this.dropped;
    // A connection that failed to open or closed under a client is an error (a request in flight is lost with it).
    if (unexpected) this.run.errors++;
    this.expectedId = 0;
    this.dropped = false;
    this.settle();
    if (this.closing) return this.finish();
    if (this.run.started) this.retry();
  }

  private retry(): void {
    if (!this.run.canSend()) return this.finish();
    this.reconnectTimer = setTimeout(() => {
      if (this.run.canSend()) this.open();
      else this.finish();
    }, RECONNECT_DELAY_MS);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.onFinished();
  }
}

/**
 * Runs the closed loop for `durationSec` and returns every request's own
 * latency (from sending the frame to receiving its reply). Connections are
 * opened before the clock starts (as pgbench's initial connections are left
 * out of its time); requests are sent until the duration is over, the replies
 * then in flight are awaited, and the rate is over the time from the start to
 * the last reply. Errors: replies that fail `verify`, connections that fail or
 * close, requests unanswered within the timeout, replies to no request.
 * Bounded: by the duration plus the timeout plus a grace for closing; every
 * socket is closed when it returns.
 */
export async function runWsLoad(load: WsLoad): Promise<RawRun> {
  const run = new Run(load);
  const clients = Array.from({ length: load.connections }, () => new Client(run));
  await Promise.all(clients.map((client) => client.connect()));
  run.startedAt = performance.now();
  run.deadline = run.startedAt + load.durationSec * 1000;
  run.started = true;
  const timeouts = setInterval(() => {
    const now = performance.now();
    for (const client of clients) client.checkTimeout(now);
  }, Math.min(1_000, run.timeoutMs / 2));
  let hardStop: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    hardStop = setTimeout(resolve, load.durationSec * 1000 + run.timeoutMs + CLOSE_GRACE_MS);
  });
  try {
    for (const client of clients) client.start();
    await Promise.race([Promise.all(clients.map((client) => client.done)), bound]);
  } finally {
    clearInterval(timeouts);
    clearTimeout(hardStop);
    run.aborted = true;
    for (const client of clients) client.abort();
  }
  const seconds = (Math.max(run.deadline, run.lastReplyAt) - run.startedAt) / 1000;
  return { latenciesMs: run.latenciesMs, seconds, errors: run.errors };
}
