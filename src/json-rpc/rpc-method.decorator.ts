import { applyDecorators, SetMetadata, UseFilters, UseInterceptors } from '@nestjs/common';
import { JsonRpcExceptionFilter } from './json-rpc.exception-filter';
import type { RpcMethodDoc } from './openrpc.types';
import { RpcMetricsInterceptor } from './rpc-metrics.interceptor';

export const RPC_METHOD_METADATA = 'json-rpc:method';

export interface RpcMethodOptions {
  /** Schemas, result, errors and examples for the OpenRPC document; without it the method is listed with permissive schemas. */
  doc?: RpcMethodDoc;
}

/** What `@RpcMethod` records on the handler. */
export interface RpcMethodDeclaration extends RpcMethodOptions {
  name: string;
}

export interface RpcMethodMetadata extends RpcMethodDeclaration {
  /**
   * Names given to positional params, in order; more positional params than
   * this are refused. Read at start from the `@Positional` fields of the
   * handler's `@RpcParams()` DTO (none without one).
   */
  params: readonly string[];
}

/**
 * Binds a controller method to a JSON-RPC method name. The method takes its
 * validated params with `@RpcParams()` and the caller with `@RpcAuth()`, and
 * returns the result; it throws domain errors, which the transport's one
 * exception filter maps to JSON-RPC errors. Every call is also measured.
 */
export const RpcMethod = (name: string, options: RpcMethodOptions = {}) =>
  applyDecorators(
    SetMetadata<string, RpcMethodDeclaration>(RPC_METHOD_METADATA, { name, ...options }),
    UseFilters(JsonRpcExceptionFilter),
    UseInterceptors(RpcMetricsInterceptor),
  );
