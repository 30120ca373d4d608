import { JSONRPCClient, JSONRPCErrorException, type JSONRPCRequest, type JSONRPCResponse } from 'json-rpc-2.0';
import { WebSocket } from 'ws';
import { parseJson, stringifyJson } from '../json-rpc/json-rpc.codec';
import { JsonRpcError, RpcTransportError } from './json-rpc-error';
import { type JsResultRecord, METHOD_PARAMS, type MethodName, type ParamsOf, type Query, type ResultOf } from './methods';

export interface ClientOptions {
  /** `http(s)://host:port/path` (POST) or `ws(s)://host:port/path` (WebSocket, needed for subscriptions). */
  url: string;
  /** The token of every call that takes one, unless the call names its own. */
  token?: string;
  /** How long a call may wait for its answer (default 30 s); then it fails with RpcTransportError. */
  timeoutMs?: number;
  /** WebSocket only: the longest wait between reconnection attempts (default 5 s). */
  maxReconnectDelayMs?: number;
}

export interface CallOptions {
  /** This call's token, in place of the client's. */
  token?: string;
}

export type BatchCall = { [M in MethodName]: { method: M; params: ParamsOf<M>; token?: string } }[MethodName];
export type BatchOutcome = { result: unknown } | { error: JsonRpcError };

export interface RpcClient {
  /** Calls one method, typed by its name; resolves with its result or rejects with JsonRpcError / RpcTransportError. */
  call<M extends MethodName>(method: M, params: ParamsOf<M>, options?: CallOptions): Promise<ResultOf<M>>;
  /** Each method as a function, typed: `client.methods['js-result_query']({ query })`. */
  readonly methods: { readonly [M in MethodName]: (params: ParamsOf<M>, options?: CallOptions) => Promise<ResultOf<M>> };
  /** One request, several calls; each call succeeds or fails on its own, in the order given. */
  batch(calls: readonly BatchCall[]): Promise<BatchOutcome[]>;
  /** Records matching `query` as they finish (WebSocket only), resubscribing after a reconnection. `return()` unsubscribes. */
  subscribe(query: Query, options?: CallOptions): AsyncIterableIterator<JsResultRecord>;
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** json-rpc-2.0 reports a transport failure as an error response with this code. */
const TRANSPORT_FAILURE_CODE = 0;

function isResponse(value: unknown): value is JSONRPCResponse {
  return typeof value === 'object' && value !== null && (value as { jsonrpc?: unknown }).jsonrpc === '2.0' && ('result' in value || 'error' in value);
}

function failureOf(error: unknown): Error {
  if (error instanceof JSONRPCErrorException) {
    return error.code === TRANSPORT_FAILURE_CODE ? new RpcTransportError(error.message) : new JsonRpcError(error.code, error.message, error.data);
  }
  return error instanceof Error ? error : new RpcTransportError(String(error));
}

/** The params with the client's token where the method takes one and the call did not give its own. */
function withToken(method: MethodName, params: object, token: string | undefined): object {
  if (token === undefined || !(METHOD_PARAMS[method] as readonly string[]).includes('token') || (params as { token?: unknown }).token !== undefined) return params;
  return { ...params, token };
}

/** Answers decoded from text, or the error saying the URL does not speak JSON-RPC. */
function decodeAnswers(url: string, text: string): JSONRPCResponse[] {
  let parsed: unknown;
  try {
    parsed = parseJson(text);
  } catch {
    throw new RpcTransportError(`${url} did not answer with JSON; is it a JSON-RPC endpoint?`);
  }
  const answers = Array.isArray(parsed) ? parsed : [parsed];
  if (!answers.every(isResponse)) throw new RpcTransportError(`${url} did not answer with JSON-RPC 2.0 responses`);
  return answers;
}

interface Transport {
  send(payload: JSONRPCRequest | JSONRPCRequest[]): Promise<void>;
  close(): Promise<void>;
}

/** HTTP: one POST per request; the answers come in the response body. */
function httpTransport(url: string, receive: (answers: JSONRPCResponse[]) => void, timeoutMs: number): Transport {
  return {
    async send(payload) {
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: stringifyJson(payload),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        throw new RpcTransportError(`could not reach ${url}: ${(error as Error).message}`, { cause: error });
      }
      const text = await res.text();
      if (res.status !== 200 && res.status !== 204) throw new RpcTransportError(`${url} answered HTTP ${res.status}; is it a JSON-RPC endpoint?`);
      if (text !== '') receive(decodeAnswers(url, text));
    },
    async close() {},
  };
}

/**
 * WebSocket: one connection, opened on first use and opened again after a
 * loss (with a growing delay) while subscriptions are held; calls in flight
 * when it is lost fail with RpcTransportError.
 */
class WsTransport implements Transport {
  private socket?: Promise<WebSocket>;
  private closed = false;
  private attempt = 0;

  constructor(
    private readonly url: string,
    private readonly onAnswers: (answers: JSONRPCResponse[]) => void,
    private readonly onNotification: (method: string, params: unknown) => void,
    private readonly onLost: () => void,
    private readonly onReconnected: () => void,
    private readonly maxReconnectDelayMs: number,
    private readonly timeoutMs: number,
  ) {}

  async send(payload: JSONRPCRequest | JSONRPCRequest[]): Promise<void> {
    const socket = await this.open();
    socket.send(stringifyJson(payload));
  }

  /** Opens the connection again after a loss, while `wanted()` says something needs it. */
  reconnectWhile(wanted: () => boolean): void {
    if (this.closed || !wanted()) return;
    const delay = Math.min(this.maxReconnectDelayMs, 100 * 2 ** this.attempt++);
    setTimeout(() => {
      if (this.closed || !wanted()) return;
      this.open().then(
        () => this.onReconnected(),
        () => this.reconnectWhile(wanted),
      );
    }, delay).unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    const socket = await this.socket?.catch(() => undefined);
    if (socket === undefined || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.close();
    });
  }

  private open(): Promise<WebSocket> {
    if (this.closed) return Promise.reject(new RpcTransportError('the client is closed'));
    this.socket ??= new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(this.url, { handshakeTimeout: this.timeoutMs });
      let opened = false;
      socket.once('open', () => {
        opened = true;
        this.attempt = 0;
        resolve(socket);
      });
      socket.once('unexpected-response', (_req, res) => {
        reject(new RpcTransportError(`${this.url} answered HTTP ${res.statusCode} instead of a WebSocket; is it a JSON-RPC endpoint?`));
        socket.terminate();
      });
      socket.once('error', (error) => reject(new RpcTransportError(`could not reach ${this.url}: ${error.message}`, { cause: error })));
      socket.on('message', (data) => this.receive(data.toString()));
      socket.once('close', () => {
        this.socket = undefined;
        // A connection that never opened has no calls in flight: its failure is the open's rejection.
        if (opened) this.onLost();
      });
    });
    return this.socket;
  }

  private receive(text: string): void {
    let parsed: unknown;
    try {
      parsed = parseJson(text);
    } catch {
      return;
    }
    const frame = parsed as { method?: unknown; params?: unknown };
    if (!Array.isArray(parsed) && typeof frame.method === 'string') this.onNotification(frame.method, frame.params);
    else if ((Array.isArray(parsed) ? parsed : [parsed]).every(isResponse)) this.onAnswers((Array.isArray(parsed) ? parsed : [parsed]) as JSONRPCResponse[]);
  }
}

/** A subscription's records, queued until the iterator asks for them. */
class RecordStream implements AsyncIterableIterator<JsResultRecord> {
  serverId?: string;
  private readonly queue: JsResultRecord[] = [];
  private readonly waiting: Array<{ resolve: (result: IteratorResult<JsResultRecord>) => void; reject: (error: unknown) => void }> = [];
  private ended = false;
  /** Why the stream ended, when it failed (its subscription was refused): the next `next()` rejects with it. */
  private failure?: unknown;

  constructor(
    readonly query: Query,
    readonly token: string | undefined,
    private readonly onReturn: (stream: RecordStream) => Promise<void>,
  ) {}

  get open(): boolean {
    return !this.ended;
  }

  push(record: JsResultRecord): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter.resolve({ value: record, done: false });
    else this.queue.push(record);
  }

  next(): Promise<IteratorResult<JsResultRecord>> {
    const record = this.queue.shift();
    if (record !== undefined) return Promise.resolve({ value: record, done: false });
    if (this.failure !== undefined) {
      const failure = this.failure;
      this.failure = undefined;
      return Promise.reject(failure);
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  async return(): Promise<IteratorResult<JsResultRecord>> {
    if (!this.ended) {
      this.end();
      await this.onReturn(this).catch(() => undefined);
    }
    return { value: undefined, done: true };
  }

  end(): void {
    this.ended = true;
    for (const waiter of this.waiting.splice(0)) waiter.resolve({ value: undefined, done: true });
  }

  /** Ends the stream with the error of its (re)subscription: a waiting `next()` rejects with it, or the next one. */
  fail(error: unknown): void {
    this.ended = true;
    const waiter = this.waiting.shift();
    if (waiter) waiter.reject(error);
    else this.failure = error;
    for (const other of this.waiting.splice(0)) other.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<JsResultRecord> {
    return this;
  }
}

/**
 * A client of this service over HTTP or WebSocket (by the URL's scheme), on
 * json-rpc-2.0's request bookkeeping (ids, batches, pending calls), with
 * lossless JSON so 64-bit integers stay exact (as bigint past 2^53).
 */
export function createClient(options: ClientOptions): RpcClient {
  const { url, token: defaultToken } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const scheme = new URL(url).protocol;
  const streams = new Set<RecordStream>();
  let rpc: JSONRPCClient;
  let transport: Transport;

  const requester = () => rpc.timeout(timeoutMs, (id) => ({ jsonrpc: '2.0', id, error: { code: TRANSPORT_FAILURE_CODE, message: `no answer from ${url} within ${timeoutMs} ms` } }));

  const call = async <M extends MethodName>(method: M, params: ParamsOf<M>, callOptions?: CallOptions): Promise<ResultOf<M>> => {
    try {
      return (await requester().request(method, withToken(method, params, callOptions?.token ?? defaultToken))) as ResultOf<M>;
    } catch (error) {
      throw failureOf(error);
    }
  };

  /** Subscribes the stream on the current connection; a refusal (or a lost connection) ends it with the error. */
  const subscribeOn = async (stream: RecordStream): Promise<void> => {
    try {
      stream.serverId = await call('js-result_subscribe', { query: stream.query, ...(stream.token === undefined ? {} : { token: stream.token }) });
    } catch (error) {
      streams.delete(stream);
      stream.fail(error);
    }
  };

  if (scheme === 'http:' || scheme === 'https:') {
    transport = httpTransport(url, (answers) => rpc.receive(answers), timeoutMs);
  } else if (scheme === 'ws:' || scheme === 'wss:') {
    const ws: WsTransport = new WsTransport(
      url,
      (answers) => rpc.receive(answers),
      (method, params) => {
        if (method !== 'js-result_subscription') return;
        const { subscription, result } = params as { subscription: string; result: JsResultRecord };
        for (const stream of streams) if (stream.serverId === subscription) stream.push(result);
      },
      () => {
        rpc.rejectAllPendingRequests(`the connection to ${url} was lost`);
        for (const stream of streams) stream.serverId = undefined;
        ws.reconnectWhile(() => streams.size > 0);
      },
      () => {
        for (const stream of streams) void subscribeOn(stream);
      },
      options.maxReconnectDelayMs ?? 5_000,
      timeoutMs,
    );
    transport = ws;
  } else {
    throw new RpcTransportError(`${url}: expected an http(s):// or ws(s):// URL`);
  }
  rpc = new JSONRPCClient((payload) => transport.send(payload));

  const methods = Object.fromEntries(
    (Object.keys(METHOD_PARAMS) as MethodName[]).map((method) => [method, (params: never, callOptions?: CallOptions) => call(method, params, callOptions)]),
  ) as unknown as RpcClient['methods'];

  return {
    call,
    methods,
    async batch(calls) {
      const requests = calls.map((c, i): JSONRPCRequest => ({ jsonrpc: '2.0', id: i + 1, method: c.method, params: withToken(c.method, c.params, c.token ?? defaultToken) }));
      let answers: JSONRPCResponse[];
      try {
        answers = await requester().requestAdvanced(requests);
      } catch (error) {
        throw failureOf(error);
      }
      return answers.map((answer) => {
        if (answer.error === undefined) return { result: answer.result };
        if (answer.error.code === TRANSPORT_FAILURE_CODE) throw new RpcTransportError(answer.error.message);
        return { error: new JsonRpcError(answer.error.code, answer.error.message, answer.error.data) };
      });
    },
    subscribe(query, callOptions) {
      if (!(transport instanceof WsTransport)) throw new RpcTransportError('subscriptions need a ws:// or wss:// URL');
      const stream = new RecordStream(query, callOptions?.token ?? defaultToken, async (ended) => {
        streams.delete(ended);
        if (ended.serverId !== undefined) await call('js-result_unsubscribe', { subscription: ended.serverId });
      });
      streams.add(stream);
      void subscribeOn(stream);
      return stream;
    },
    async close() {
      for (const stream of streams) stream.end();
      streams.clear();
      rpc.rejectAllPendingRequests('the client was closed');
      await transport.close();
    },
  };
}
