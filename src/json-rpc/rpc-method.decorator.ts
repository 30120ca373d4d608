import { SetMetadata } from '@nestjs/common';

export const RPC_METHOD_METADATA = Symbol('rpc-method');

export interface RpcMethodOptions {
  /** Names given to positional params, in order; more positional params than this are refused. */
  params: readonly string[];
}

export interface RpcMethodMetadata extends RpcMethodOptions {
  name: string;
}

/**
 * Exposes a provider method as a JSON-RPC method. The method receives the
 * params as a named object (positional params are mapped onto `params`) and
 * returns the result; errors are domain errors, never JSON-RPC envelopes.
 */
export const RpcMethod = (name: string, options: RpcMethodOptions) =>
  SetMetadata<symbol, RpcMethodMetadata>(RPC_METHOD_METADATA, { name, ...options });
