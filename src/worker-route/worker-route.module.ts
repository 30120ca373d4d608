import { type DynamicModule, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, type WorkerRouteSettings } from '../config/app.config';
import { JsWorkerModule } from '../js-worker/js-worker.module';
import { RouteConcurrency } from './worker-route.concurrency';
import { WorkerRouteController } from './worker-route.controller';
import { WorkerRouteMetrics } from './worker-route.metrics';
import { WorkerRouteService } from './worker-route.service';

/**
 * Workers' HTTP routes (`/nodeget/worker-route/{route_name}/...`). With
 * WORKER_ROUTES=off the controller is not registered at all, so a route path
 * is a 404 like any unknown path and no body is read for it.
 */
@Module({})
export class WorkerRouteModule {
  static forRoot(settings: WorkerRouteSettings): DynamicModule {
    return {
      module: WorkerRouteModule,
      imports: [JsWorkerModule],
      controllers: settings.enabled ? [WorkerRouteController] : [],
      providers: [
        {
          provide: RouteConcurrency,
          useFactory: (config: AppConfig) =>
            new RouteConcurrency(config.workerRoutes.maxConcurrent, config.workerRoutes.maxConcurrentPerRoute),
          inject: [APP_CONFIG],
        },
        WorkerRouteMetrics,
        WorkerRouteService,
      ],
    };
  }
}
