import type { RpcMethods } from './methods.generated';

/**
 * The service's methods as the client types them, generated from the OpenRPC
 * document (methods.generated.ts, by `npm run docs`; a test fails when it is
 * stale), with its shared schemas as named types (Query, Condition,
 * JsResultRecord, ...). Integers that may exceed 2^53 are `number | bigint`.
 */
export * from './methods.generated';

export type MethodName = keyof RpcMethods;
export type ParamsOf<M extends MethodName> = RpcMethods[M]['params'];
export type ResultOf<M extends MethodName> = RpcMethods[M]['result'];
