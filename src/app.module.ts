import { type DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { AppConfig } from './config/app.config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { JsResultModule } from './js-result/js-result.module';
import { JsWorkerModule } from './js-worker/js-worker.module';
import { JsonRpcModule } from './json-rpc/json-rpc.module';
import { TokenModule } from './token/token.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            // One log line per request would cost more than the request on the hot path.
            autoLogging: false,
            redact: ['req.headers.authorization', 'req.body'],
          },
        }),
        DatabaseModule,
        TokenModule,
        JsonRpcModule,
        JsResultModule,
        JsWorkerModule,
        HealthModule,
      ],
    };
  }
}
