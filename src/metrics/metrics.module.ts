import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { MetricsServer } from './metrics.server';
import { MetricsService } from './metrics.service';

/** Global: every JSON-RPC method's metrics interceptor needs it, in whichever module the method lives. */
@Global()
@Module({
  providers: [MetricsService, MetricsServer],
  exports: [MetricsService],
})
export class MetricsModule {}

/** `GET /metrics` on the application's port: the standalone server's; an embedding application mounts no such route. */
@Module({ imports: [MetricsModule], controllers: [MetricsController] })
export class MetricsRouteModule {}
