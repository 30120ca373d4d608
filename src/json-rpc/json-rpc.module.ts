import { Module } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { MetricsModule } from '../metrics/metrics.module';
import { JsonRpcDispatcher } from './json-rpc.dispatcher';
import { JsonRpcNodeGetGateway, JsonRpcRootGateway } from './json-rpc.gateway';
import { JsonRpcHttpController } from './json-rpc.http.controller';
import { OpenRpcDocumentProvider } from './openrpc.document';
import { OpenRpcHttpController } from './openrpc.http.controller';
import { OpenRpcRpcController } from './openrpc.rpc-controller';
import { RpcMethodExplorer } from './rpc-method.explorer';
import { RpcParamsGuard } from './rpc-params.guard';

/**
 * The JSON-RPC transport: envelope and batches (dispatcher), HTTP and
 * WebSocket, and the pipeline pieces every method gets (params guard, metrics
 * interceptor, exception filter). Feature modules only declare `@RpcMethod`s.
 */
@Module({
  imports: [DiscoveryModule, MetricsModule],
  controllers: [JsonRpcHttpController, OpenRpcHttpController],
  providers: [
    JsonRpcDispatcher,
    RpcMethodExplorer,
    OpenRpcDocumentProvider,
    OpenRpcRpcController,
    { provide: APP_GUARD, useClass: RpcParamsGuard },
    JsonRpcRootGateway,
    JsonRpcNodeGetGateway,
  ],
  exports: [JsonRpcDispatcher, OpenRpcDocumentProvider],
})
export class JsonRpcModule {}
