import type { ParamsFactory } from '@nestjs/core';
import type { NamedParams, RpcCall } from './rpc-call';

/** Where handler arguments of JSON-RPC methods are declared (read by Nest's ExternalContextCreator). */
export const RPC_ARGS_METADATA = 'json-rpc:args';

export enum RpcArgType {
  Params = 0,
  Auth = 1,
  Invocation = 2,
  Session = 3,
  Replies = 4,
}

/** Which method was called with which params (by name, as sent): what an audit entry records. */
export interface RpcInvocation {
  method: string;
  params: NamedParams;
  /** The id the call's request is logged under, for lines the call causes after it is answered. */
  requestId: string;
}

interface RpcArgMetadata {
  index: number;
  data: undefined;
  pipes: [];
}

function rpcArg(type: RpcArgType): ParameterDecorator {
  return (target, methodName, index) => {
    if (methodName === undefined) throw new Error('JSON-RPC argument decorators go on method parameters');
    const declared: Record<string, RpcArgMetadata> = Reflect.getMetadata(RPC_ARGS_METADATA, target.constructor, methodName) ?? {};
    Reflect.defineMetadata(
      RPC_ARGS_METADATA,
      { ...declared, [`${type}:${index}`]: { index, data: undefined, pipes: [] } },
      target.constructor,
      methodName,
    );
  };
}

/** The call's params, validated into the parameter's DTO class by RpcParamsGuard. */
export const RpcParams = (): ParameterDecorator => rpcArg(RpcArgType.Params);

/** The caller, resolved from the call's token by the token guard. */
export const RpcAuth = (): ParameterDecorator => rpcArg(RpcArgType.Auth);

/** The method name and the params as sent, for handlers whose changes are audited. */
export const RpcInvocationInfo = (): ParameterDecorator => rpcArg(RpcArgType.Invocation);

/**
 * The connection the call came over (`RpcSession`), or undefined over HTTP:
 * for methods whose effects outlive the call on that connection (subscriptions).
 */
export const RpcConnection = (): ParameterDecorator => rpcArg(RpcArgType.Session);

/**
 * The bytes of reply the call may still be answered with (`ReplyBudget`), for
 * reads that can stop as soon as they know their answer would not fit.
 */
export const RpcReplies = (): ParameterDecorator => rpcArg(RpcArgType.Replies);

/** Index of the `@RpcParams()` parameter of a handler, if it has one. */
export function rpcParamsIndex(controller: object, methodName: string): number | undefined {
  const declared: Record<string, RpcArgMetadata> | undefined = Reflect.getMetadata(
    RPC_ARGS_METADATA,
    controller.constructor,
    methodName,
  );
  return declared?.[Object.keys(declared).find((key) => key.startsWith(`${RpcArgType.Params}:`)) ?? '']?.index;
}

/** The DTO class of a handler's `@RpcParams()` parameter (its declared type), if it has one. */
export function rpcParamsClass(controller: object, methodName: string): (new () => object) | undefined {
  const index = rpcParamsIndex(controller, methodName);
  if (index === undefined) return undefined;
  const types: unknown[] | undefined = Reflect.getMetadata('design:paramtypes', controller, methodName);
  return types?.[index] as (new () => object) | undefined;
}

/** Hands each declared argument its value from the call. */
export const rpcArgsFactory: ParamsFactory = {
  exchangeKeyForValue(type: number, _data: unknown, [call]: [RpcCall]): unknown {
    if (type === RpcArgType.Params) return call.dto;
    if (type === RpcArgType.Auth) return call.auth;
    if (type === RpcArgType.Session) return call.session;
    if (type === RpcArgType.Replies) return call.replies;
    return { method: call.method, params: call.params, requestId: call.request.requestId } satisfies RpcInvocation;
  },
};
