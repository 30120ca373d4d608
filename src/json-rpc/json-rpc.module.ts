import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { MetricsModule } from '../metrics/metrics.module';
import { JsonRpcController } from './json-rpc.controller';
import { JsonRpcDispatcher } from './json-rpc.dispatcher';
import { JsonRpcErrorMapper } from './json-rpc.error-mapper';
import { RpcMethodRegistry } from './rpc-method.registry';

@Module({
  imports: [DiscoveryModule, MetricsModule],
  controllers: [JsonRpcController],
  providers: [JsonRpcDispatcher, JsonRpcErrorMapper, RpcMethodRegistry],
})
export class JsonRpcModule {}
