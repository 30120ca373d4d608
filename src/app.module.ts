import { type DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { AppConfig } from './config/app.config';
import { ConfigModule } from './config/config.module';
import { pinoHttpParams } from './logging/pino-http.options';
import { HealthRouteModule } from './health/health-route.module';
import { composeService } from './js-result-service.module';
import { JSON_RPC_PATHS } from './json-rpc/json-rpc.http.controller';
import { MetricsRouteModule } from './metrics/metrics.module';
import { WorkerRouteModule } from './worker-route/worker-route.module';

/**
 * The standalone server: the service module (configured from the environment,
 * JSON-RPC on Fastify's own routes at `/` and `/nodeget/rpc`), with what only
 * the server has: the pino logger, health, metrics and OpenRPC routes, and workers' HTTP routes.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot({
          // No per-request logger: with autoLogging off it only bound each request's details to a
          // child logger nobody logs through on a successful call, a real share of a short
          // call's CPU (bench/README.md).
          // JSON-RPC calls log in their request's context instead (reqId; json-rpc/request-id.ts).
          forRoutes: [],
          pinoHttp: pinoHttpParams(config),
        }),
        composeService(ConfigModule.forRoot(config, JSON_RPC_PATHS), { mode: 'server' }, [
          HealthRouteModule,
          MetricsRouteModule,
          WorkerRouteModule.forRoot(config.workerRoutes),
        ]),
      ],
    };
  }
}
