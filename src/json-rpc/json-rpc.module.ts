import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { MetricsModule } from '../metrics/metrics.module';
import { JsonRpcDispatcher } from './json-rpc.dispatcher';
import { JsonRpcErrorMapper } from './json-rpc.error-mapper';
import { RpcMethodRegistry } from './rpc-method.registry';

/** The HTTP side is JsonRpcHttpEntry, which app.factory puts in front of Fastify. */
@Module({
  imports: [DiscoveryModule, MetricsModule],
  providers: [JsonRpcDispatcher, JsonRpcErrorMapper, RpcMethodRegistry],
  exports: [JsonRpcDispatcher],
})
export class JsonRpcModule {}
