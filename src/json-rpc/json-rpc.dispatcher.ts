import { Injectable } from '@nestjs/common';
import { invalidParams } from '../common/domain.error';
import { MetricsService } from '../metrics/metrics.service';
import { parseJson, stringifyJson } from './json-rpc.codec';
import { JsonRpcErrorMapper } from './json-rpc.error-mapper';
import {
  type JsonRpcCall,
  JsonRpcErrorCode,
  type JsonRpcId,
  JsonRpcProtocolError,
  type JsonRpcResponse,
} from './json-rpc.types';
import { type RpcParams, RpcMethodRegistry } from './rpc-method.registry';

/** A batch larger than this is refused whole rather than queued against the database. */
export const MAX_BATCH_SIZE = 1000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isValidId(id: unknown): id is JsonRpcId {
  return id === null || typeof id === 'string' || typeof id === 'bigint' || (typeof id === 'number' && Number.isFinite(id));
}

/** Checks the envelope of one request; the id is kept when it is usable, for the error reply. */
function readCall(request: unknown): JsonRpcCall {
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
  const call: JsonRpcCall = { method: request.method, params: request.params };
  if ('id' in request) call.id = request.id as JsonRpcId;
  return call;
}

function usableId(request: unknown): JsonRpcId {
  return isRecord(request) && isValidId(request.id) ? request.id : null;
}

/**
 * The JSON-RPC 2.0 envelope: parses a body, runs each call through the method
 * registry and builds the reply. Notifications run but are never answered, and
 * each call of a batch succeeds or fails on its own.
 */
@Injectable()
export class JsonRpcDispatcher {
  constructor(
    private readonly registry: RpcMethodRegistry,
    private readonly errors: JsonRpcErrorMapper,
    private readonly metrics: MetricsService,
  ) {}

  /** Returns the reply body, or undefined when there is nothing to answer. */
  async handle(body: string): Promise<string | undefined> {
    let payload: unknown;
    try {
      payload = parseJson(body);
    } catch {
      return stringifyJson(
        this.failure(null, new JsonRpcProtocolError(JsonRpcErrorCode.ParseError, 'the body is not valid JSON')),
      );
    }
    if (!Array.isArray(payload)) {
      const reply = await this.handleOne(payload);
      return reply === undefined ? undefined : stringifyJson(reply);
    }
    if (payload.length === 0 || payload.length > MAX_BATCH_SIZE) {
      const reason = payload.length === 0 ? 'empty batch' : `a batch holds at most ${MAX_BATCH_SIZE} requests`;
      return stringifyJson(this.failure(null, new JsonRpcProtocolError(JsonRpcErrorCode.InvalidRequest, reason)));
    }
    const replies = (await Promise.all(payload.map((request) => this.handleOne(request)))).filter(
      (reply): reply is JsonRpcResponse => reply !== undefined,
    );
    return replies.length > 0 ? stringifyJson(replies) : undefined;
  }

  private async handleOne(request: unknown): Promise<JsonRpcResponse | undefined> {
    let call: JsonRpcCall;
    try {
      call = readCall(request);
    } catch (error) {
      return this.failure(usableId(request), error);
    }
    const isNotification = !('id' in call);
    const method = this.registry.find(call.method);
    const started = performance.now();
    let reply: JsonRpcResponse;
    try {
      if (!method) throw new JsonRpcProtocolError(JsonRpcErrorCode.MethodNotFound, `no method named '${call.method}'`);
      const result = await method.invoke(namedParams(call.params, method.params));
      reply = { jsonrpc: '2.0', id: call.id ?? null, result };
    } catch (error) {
      reply = this.failure(call.id ?? null, error, call.method);
    }
    const code = 'error' in reply ? reply.error.code : 0;
    this.metrics.recordCall(method ? method.name : 'unknown', code, (performance.now() - started) / 1000);
    return isNotification ? undefined : reply;
  }

  private failure(id: JsonRpcId, error: unknown, method?: string): JsonRpcResponse {
    return { jsonrpc: '2.0', id, error: this.errors.toErrorObject(error, method) };
  }
}

/** Positional params are mapped onto the method's declared names. */
function namedParams(params: unknown, names: readonly string[]): RpcParams {
  if (params === undefined) return {};
  if (!Array.isArray(params)) return params as RpcParams;
  if (params.length > names.length) {
    throw invalidParams(
      `expected at most ${names.length} positional params [${names.join(', ')}], got ${params.length}`,
    );
  }
  return Object.fromEntries(params.map((value, i) => [names[i], value]));
}
