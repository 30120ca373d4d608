import { applyDecorators, Injectable, SetMetadata } from '@nestjs/common';

export const RPC_CONTROLLER_METADATA = 'json-rpc:controller';

/**
 * Marks a class whose `@RpcMethod`s serve JSON-RPC calls, the way
 * `@Resolver()` marks GraphQL resolvers. Like resolvers, JSON-RPC controllers
 * are listed in a module's `providers`: Nest's ExternalContextCreator finds
 * their guards, interceptors and filters through the module that provides
 * them. They have no HTTP routes; the transport controllers do.
 */
export const RpcController = () => applyDecorators(Injectable(), SetMetadata(RPC_CONTROLLER_METADATA, true));
