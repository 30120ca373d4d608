import { type DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { MetricsModule } from '../metrics/metrics.module';
import { JsonRpcDispatcher } from './json-rpc.dispatcher';
import { JsonRpcNodeGetGateway, JsonRpcRootGateway } from './json-rpc.gateway';
import { JsonRpcHttpController } from './json-rpc.http.controller';
import { JsonRpcServerAttachment } from './json-rpc.server-attachment';
import { OpenRpcDocumentProvider } from './openrpc.document';
import { OpenRpcHttpController } from './openrpc.http.controller';
import { OpenRpcRpcController } from './openrpc.rpc-controller';
import { RPC_CONTEXT_CREATOR } from './rpc-context.creator';
import { RpcMethodExplorer } from './rpc-method.explorer';

/** How JSON-RPC reaches the network. */
export interface JsonRpcTransport {
  /**
   * `server`: the standalone server's own Fastify routes and WsAdapter gateways on `/` and `/nodeget/rpc`
   * (plus `GET /openrpc.json`). `attached`: an embedding application's HTTP server, at the configured
   * paths only, beside (never through) its routes, middleware and guards: see JsonRpcServerAttachment.
   */
  mode: 'server' | 'attached';
}

/**
 * JSON-RPC itself: envelope and batches (dispatcher), the methods' registry
 * and the pipeline pieces every method gets (params guard, metrics
 * interceptor, exception filter). Feature modules only declare `@RpcMethod`s;
 * how calls arrive is JsonRpcTransportModule's.
 */
@Module({
  imports: [DiscoveryModule, MetricsModule],
  providers: [RPC_CONTEXT_CREATOR, JsonRpcDispatcher, RpcMethodExplorer, OpenRpcDocumentProvider, OpenRpcRpcController],
  exports: [JsonRpcDispatcher, OpenRpcDocumentProvider],
})
export class JsonRpcModule {}

/** HTTP and WebSocket, as the transport says. */
@Module({})
export class JsonRpcTransportModule {
  static forRoot(transport: JsonRpcTransport): DynamicModule {
    const server = transport.mode === 'server';
    return {
      module: JsonRpcTransportModule,
      imports: [JsonRpcModule],
      controllers: server ? [JsonRpcHttpController, OpenRpcHttpController] : [],
      providers: server ? [JsonRpcRootGateway, JsonRpcNodeGetGateway] : [JsonRpcServerAttachment],
    };
  }
}
