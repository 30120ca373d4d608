import { type DynamicModule, Module } from '@nestjs/common';
import { AuditModule } from './audit/audit.module';
import { LoggerModule } from 'nestjs-pino';
import type { AppConfig } from './config/app.config';
import { ConfigModule } from './config/config.module';
import { CrontabModule } from './crontab/crontab.module';
import { pinoHttpParams } from './common/pino-http.options';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { JsResultModule } from './js-result/js-result.module';
import { JsWorkerModule } from './js-worker/js-worker.module';
import { JsonRpcModule } from './json-rpc/json-rpc.module';
import { NodegetServerModule } from './nodeget-server/nodeget-server.module';
import { QueueMetricsModule } from './metrics/queue.metrics';
import { RetentionModule } from './retention/retention.module';
import { ResultEventsModule } from './result-events/result-events.module';
import { TokenModule } from './token/token.module';
import { WorkerRouteModule } from './worker-route/worker-route.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot({
          // No per-request logger: with autoLogging off it only bound each request's details to a
          // child logger nobody logs through on a successful call, at about 60 µs of CPU per
          // request (an eighth of the service's time in the benchmark's S1, bench/README.md).
          // JSON-RPC calls log in their request's context instead (reqId; json-rpc/request-id.ts).
          forRoutes: [],
          pinoHttp: pinoHttpParams(config),
        }),
        DatabaseModule,
        TokenModule,
        JsonRpcModule,
        JsResultModule,
        JsWorkerModule,
        CrontabModule,
        ResultEventsModule,
        AuditModule,
        RetentionModule,
        HealthModule,
        NodegetServerModule,
        WorkerRouteModule.forRoot(config.workerRoutes),
        // Last: it reads the queues of the modules above.
        QueueMetricsModule,
      ],
    };
  }
}
