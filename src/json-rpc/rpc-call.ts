import type { ExecutionContext } from '@nestjs/common';
import type { ReplyBudget } from '../common/reply-budget';
import type { JsonRpcId } from './json-rpc.types';
import type { RpcRequest } from './rpc-request';
import type { RpcSession } from './rpc-session';

/** Params by name; positional params are mapped onto the method's declared names first. */
export type NamedParams = Record<string, unknown>;

/** The context type of JSON-RPC calls in Nest's pipeline (`ExecutionContext.getType()`). */
export const JSON_RPC_CONTEXT = 'json-rpc';

/**
 * One JSON-RPC call as it travels through Nest's pipeline: it is the single
 * argument of the handler's execution context. The pipeline fills it in as it
 * goes: the params guard sets `dto`, the token guard sets `auth`.
 */
export class RpcCall {
  /** The validated params DTO (see RpcParamsGuard). */
  dto?: object;
  /** Who is calling, resolved from the call's own token; only the token module knows its shape. */
  auth?: unknown;
  /** Set once the metrics interceptor has recorded the call. */
  recorded = false;

  constructor(
    readonly method: string,
    readonly params: NamedParams,
    /** Absent for notifications. */
    readonly id: JsonRpcId | undefined,
    /** The request the call came in, shared with the other calls of its batch. */
    readonly request: RpcRequest,
  ) {}

  /** The bytes of reply left to the request, shared with the other calls of its batch. */
  get replies(): ReplyBudget {
    return this.request.replies;
  }

  /** The connection the call came over, when it can carry notifications (WebSocket); absent over HTTP. */
  get session(): RpcSession | undefined {
    return this.request.session;
  }
}

/** The call a guard, interceptor or filter is looking at, or undefined outside JSON-RPC. */
export function rpcCallOf(context: Pick<ExecutionContext, 'getType' | 'getArgByIndex'>): RpcCall | undefined {
  if (context.getType<string>() !== JSON_RPC_CONTEXT) return undefined;
  const call: unknown = context.getArgByIndex(0);
  return call instanceof RpcCall ? call : undefined;
}
