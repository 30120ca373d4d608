import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { invalidParams } from '../common/domain.error';
import { JsonTextStream } from '../common/json-text-stream';
import { ReplyBudget } from '../common/reply-budget';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { MetricsService } from '../metrics/metrics.service';
import { encodeLarge, joinReplies, parseRequestJson, replyBytes, RequestNestedTooDeep, type SentReply, stringifyJson, stringifyReply, type WrittenReply } from './json-rpc.codec';
import { errorCodeOf, INTERNAL_ERROR, INTERNAL_ERROR_REPLY, knownErrorObject } from './json-rpc.errors';
import {
  type JsonRpcCall,
  type JsonRpcErrorObject,
  JsonRpcErrorCode,
  type JsonRpcId,
  JsonRpcProtocolError,
  type JsonRpcResponse,
} from './json-rpc.types';
import { type NamedParams, RpcCall } from './rpc-call';
import { RpcFailure } from './rpc-failure';
import { newRequestId, inRequestContext } from './request-id';
import { RpcCallLog } from './rpc-call-log';
import { type RpcOrigin, RpcRequest } from './rpc-request';
import { type RpcHandler, RpcMethodExplorer } from './rpc-method.explorer';

/** A batch larger than this is refused whole rather than queued against the database. */
export const MAX_BATCH_SIZE = 1000;

/**
 * Calls of one batch that run at once; the others wait their turn. Started
 * all together, the 1,000 calls of a batch ran their guards and validation
 * back to back, 50–100 ms in which no other request's I/O was served.
 */
export const BATCH_CONCURRENCY = 4;

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isValidId(id: unknown): id is JsonRpcId {
  return id === null || typeof id === 'string' || typeof id === 'bigint' || (typeof id === 'number' && Number.isFinite(id));
}

/** Checks the envelope of one request; the id is kept when it is usable, for the error reply. */
function readEnvelope(request: unknown): JsonRpcCall {
  if (!isRecord(request)) throw new JsonRpcProtocolError(JsonRpcErrorCode.InvalidRequest, 'expected a request object');
  if (request.jsonrpc !== '2.0') {
    throw new JsonRpcProtocolError(JsonRpcErrorCode.InvalidRequest, 'jsonrpc must be exactly "2.0"');
  }
  if (typeof request.method !== 'string') {
    throw new JsonRpcProtocolError(JsonRpcErrorCode.InvalidRequest, 'method must be a string');
  }
  if ('id' in request && !isValidId(request.id)) {
    throw new JsonRpcProtocolError(JsonRpcErrorCode.InvalidRequest, 'id must be a string, a number or null');
  }
  if (request.params !== undefined && typeof request.params !== 'object') {
    throw new JsonRpcProtocolError(JsonRpcErrorCode.InvalidRequest, 'params must be an array or an object');
  }
  const envelope: JsonRpcCall = { method: request.method, params: request.params };
  if ('id' in request) envelope.id = request.id as JsonRpcId;
  return envelope;
}

function usableId(request: unknown): JsonRpcId {
  return isRecord(request) && isValidId(request.id) ? request.id : null;
}

/** Positional params are mapped onto the method's declared names. */
function namedParams(params: unknown, names: readonly string[]): NamedParams {
  if (params === undefined || params === null) return {};
  if (!Array.isArray(params)) return params as NamedParams;
  if (params.length > names.length) {
    throw invalidParams(`expected at most ${names.length} positional params [${names.join(', ')}], got ${params.length}`);
  }
  const named: NamedParams = {};
  params.forEach((value, i) => (named[names[i]] = value));
  return named;
}

/** Longer names are no method's: they are not repeated in \`data\` (errors are not charged to the reply budget). */
const MAX_NAMED_METHOD_CHARS = 200;

const methodNotFound = (method: string) =>
  new JsonRpcProtocolError(
    JsonRpcErrorCode.MethodNotFound,
    `no method named '${method}'`,
    method.length <= MAX_NAMED_METHOD_CHARS ? { method } : undefined,
  );

const failure = (id: JsonRpcId, error: JsonRpcErrorObject): JsonRpcResponse => ({ jsonrpc: '2.0', id, error });

/**
 * The JSON-RPC 2.0 envelope, the same for every transport: parses a request
 * text, runs each call through its method's Nest pipeline and writes the reply
 * text. Notifications run but are never answered, and each call of a batch
 * succeeds or fails on its own.
 *
 * Each call's reply is written as soon as the call finishes and charged to
 * the request's `ReplyBudget`: a call whose reply does not fit gets the error
 * that names the limit instead, so a batch never holds more written replies
 * than MAX_RESPONSE_BYTES, however many calls it has.
 */
@Injectable()
export class JsonRpcDispatcher {
  private readonly logger = new Logger(JsonRpcDispatcher.name);
  private readonly calls: RpcCallLog;
  /**
   * Whether requests run in a logging context (ACCESS_LOG): on Node 20 an
   * AsyncLocalStorage in use costs every promise of the process a hook (see
   * bench/README.md for what that costs a call), so it is only paid for when asked for.
   */
  private readonly requestContexts: boolean;

  constructor(
    private readonly methods: RpcMethodExplorer,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'responses' | 'logs'>,
  ) {
    this.calls = new RpcCallLog(config.logs);
    this.requestContexts = config.logs.accessLog;
  }

  /**
   * The reply (JSON text, or its UTF-8 bytes when large), or undefined when there is nothing to answer. Never throws.
   * The lines a call causes carry its request id because it is handed to them
   * (RpcRequest.logFields, RpcInvocation.requestId); with ACCESS_LOG the
   * request also runs in a logging context, for lines nobody handed it to.
   */
  handle(text: string, origin: RpcOrigin): Promise<WrittenReply | undefined> {
    return this.handled(text, origin, false) as Promise<WrittenReply | undefined>;
  }

  /**
   * As `handle`, for transports that can send a reply as it is produced (an
   * HTTP body): a single call whose result is streamed (a large read) is
   * answered with the whole reply as a JsonTextStream, already charged to the
   * request's budget, which the transport must read to the end or close. A
   * batch's replies are always written whole, in order: a batch's stream held
   * open until the other calls finish would hold a pooled connection each.
   */
  handleStreaming(text: string, origin: RpcOrigin): Promise<SentReply | undefined> {
    return this.handled(text, origin, true);
  }

  private handled(text: string, origin: RpcOrigin, streaming: boolean): Promise<SentReply | undefined> {
    const requestId = origin.requestId ?? newRequestId();
    if (!this.requestContexts) return this.answerSafely(text, origin, requestId, streaming);
    return inRequestContext(requestId, () => this.answerSafely(text, origin, requestId, streaming));
  }

  private async answerSafely(text: string, origin: RpcOrigin, requestId: string, streaming: boolean): Promise<SentReply | undefined> {
    try {
      return await this.answer(text, origin, requestId, streaming);
    } catch (error) {
      // Every failure of a call is answered by its pipeline; this is a bug in the envelope itself.
      this.logger.error({ err: error, ...this.requestIdField(requestId) }, 'unexpected error in the JSON-RPC envelope');
      return INTERNAL_ERROR_REPLY;
    }
  }

  private async answer(text: string, origin: RpcOrigin, requestId: string, streaming: boolean): Promise<SentReply | undefined> {
    let payload: unknown;
    try {
      payload = parseRequestJson(text);
    } catch (error) {
      if (error instanceof RequestNestedTooDeep) return stringifyReply(this.refusal(null, new JsonRpcProtocolError(JsonRpcErrorCode.InvalidRequest, error.message)));
      return stringifyReply(this.refusal(null, new JsonRpcProtocolError(JsonRpcErrorCode.ParseError, 'the body is not valid JSON')));
    }
    const request = new RpcRequest(
      origin,
      new ReplyBudget(this.config.responses.maxResponseBytes, this.config.responses.maxCallResponseBytes),
      requestId,
      this.requestContexts,
    );
    if (!Array.isArray(payload)) return this.handleOne(payload, request, streaming);
    if (payload.length === 0 || payload.length > MAX_BATCH_SIZE) {
      const reason = payload.length === 0 ? 'empty batch' : `a batch holds at most ${MAX_BATCH_SIZE} requests`;
      return stringifyReply(this.refusal(null, new JsonRpcProtocolError(JsonRpcErrorCode.InvalidRequest, reason)));
    }
    const replies = (await this.handleBatch(payload, request)).filter((reply): reply is WrittenReply => reply !== undefined);
    return replies.length > 0 ? joinReplies(replies) : undefined;
  }

  /**
   * The batch's replies in its order, from BATCH_CONCURRENCY calls at a time.
   * Each runner yields to the event loop between calls, since a call may
   * finish without waiting on anything (a refusal) and the next would follow
   * at once.
   */
  private async handleBatch(calls: unknown[], request: RpcRequest): Promise<(WrittenReply | undefined)[]> {
    const replies = new Array<WrittenReply | undefined>(calls.length);
    let next = 0;
    const runner = async () => {
      while (next < calls.length) {
        const at = next++;
        replies[at] = (await this.handleOne(calls[at], request, false)) as WrittenReply | undefined;
        await yieldToEventLoop();
      }
    };
    await Promise.all(Array.from({ length: Math.min(BATCH_CONCURRENCY, calls.length) }, runner));
    return replies;
  }

  /** The call's reply, written (or, `streaming`, a streamed result's whole reply), or undefined for a notification. */
  private async handleOne(message: unknown, request: RpcRequest, streaming: boolean): Promise<SentReply | undefined> {
    let envelope: JsonRpcCall;
    try {
      envelope = readEnvelope(message);
    } catch (error) {
      return stringifyReply(this.refusal(usableId(message), error));
    }
    const id = envelope.id ?? null;
    try {
      const started = performance.now();
      const handler = this.methods.find(envelope.method);
      const reply = handler
        ? await this.run(handler, envelope, started, request)
        : this.refusal(id, methodNotFound(envelope.method), started, 'unknown', request);
      if ('id' in envelope) return await this.written(reply, request.replies, handler?.name ?? 'unknown', streaming);
      // Nothing is answered to a notification: a streamed result is not read, and its connection goes back at once.
      if ('result' in reply && reply.result instanceof JsonTextStream) await reply.result.close();
      return undefined;
    } catch (error) {
      // A failure past the call's pipeline (its result could not be written, say) is this call's -32603, with its id, not the batch's.
      this.logger.error({ err: error, method: envelope.method, ...request.logFields }, 'unexpected error answering a JSON-RPC call');
      return 'id' in envelope ? stringifyReply(failure(envelope.id ?? null, INTERNAL_ERROR)) : undefined;
    }
  }

  /**
   * The reply as text, a result charged to the budget as it is written; one
   * that does not fit is dropped for the error naming the limit, and counted.
   * Errors are short and not charged, so every call of a batch is still answered.
   */
  private written(reply: JsonRpcResponse, budget: ReplyBudget, method: string, streaming: boolean): SentReply | Promise<SentReply> {
    if ('result' in reply && reply.result instanceof JsonTextStream) return this.writtenStream(reply.id, reply.result, budget, method, streaming);
    const text = stringifyReply(reply);
    if (!('result' in reply)) return text;
    try {
      const encoded = encodeLarge(text);
      budget.charge(replyBytes(encoded));
      return encoded;
    } catch (error) {
      this.metrics.recordReplyTooLarge(method);
      return stringifyReply(failure(reply.id, knownErrorObject(error) ?? INTERNAL_ERROR));
    }
  }

  /**
   * A streamed result's reply: its exact length is known before any of it
   * is read, so it is charged (or refused, its stream closed unread) as a
   * written one is; then handed on as it is, or read whole here for the
   * transports and batches that send replies whole (its length within the
   * budget just charged).
   */
  private async writtenStream(id: JsonRpcId, result: JsonTextStream, budget: ReplyBudget, method: string, streaming: boolean): Promise<SentReply> {
    const whole = result.wrapped(`{"jsonrpc":"2.0","id":${stringifyJson(id)},"result":`, '}');
    try {
      budget.charge(whole.bytes);
    } catch (error) {
      await whole.close();
      this.metrics.recordReplyTooLarge(method);
      return stringifyReply(failure(id, knownErrorObject(error) ?? INTERNAL_ERROR));
    }
    if (streaming) return whole;
    try {
      return encodeLarge(await whole.readAll());
    } catch (error) {
      this.logger.error({ err: error, method }, 'a streamed result failed while it was read');
      return stringifyReply(failure(id, knownErrorObject(error) ?? INTERNAL_ERROR));
    }
  }

  private async run(handler: RpcHandler, envelope: JsonRpcCall, started: number, request: RpcRequest): Promise<JsonRpcResponse> {
    const id = envelope.id ?? null;
    let call: RpcCall;
    try {
      call = new RpcCall(handler.name, namedParams(envelope.params, handler.params), envelope.id, request);
    } catch (error) {
      return this.refusal(id, error, started, handler.name, request);
    }
    const outcome = await handler.run(call);
    const reply: JsonRpcResponse =
      outcome instanceof RpcFailure ? failure(id, outcome.error) : { jsonrpc: '2.0', id, result: outcome };
    const code = 'error' in reply ? reply.error.code : 0;
    // Calls refused by a guard never reached the metrics interceptor.
    if (!call.recorded) this.record(handler.name, code, started);
    // Every call with a method passes here or through `refusal`: the one place calls are logged.
    this.calls.finished(handler.name, envelope.id, code, started, request, call.auth);
    return reply;
  }

  /** A call refused by the envelope itself, before any method's pipeline. */
  private refusal(id: JsonRpcId, error: unknown, started?: number, method = 'unknown', request?: RpcRequest): JsonRpcResponse {
    if (started !== undefined) {
      const code = errorCodeOf(error);
      this.record(method, code, started);
      if (request !== undefined) this.calls.finished(method, id, code, started, request, undefined);
    }
    return failure(id, knownErrorObject(error) ?? INTERNAL_ERROR);
  }

  /** The request id for a line logged outside a request's logging context (whose lines carry it already). */
  private requestIdField(requestId: string): { reqId?: string } {
    return this.requestContexts ? {} : { reqId: requestId };
  }

  private record(method: string, code: number, started: number): void {
    this.metrics.recordCall(method, code, (performance.now() - started) / 1000);
  }
}
