import { type DynamicModule, type InjectionToken, Module, type ModuleMetadata, type OptionalFactoryDependency } from '@nestjs/common';
import { AuditModule } from './audit/audit.module';
import { ConfigModule, JSR_MODULE_OPTIONS } from './config/config.module';
import type { JsResultServiceOptions } from './config/service.options';
import { CrontabModule } from './crontab/crontab.module';
import { DatabaseModule } from './database/database.module';
import { JsResultModule } from './js-result/js-result.module';
import { JsWorkerModule } from './js-worker/js-worker.module';
import { type JsonRpcTransport, JsonRpcTransportModule } from './json-rpc/json-rpc.module';
import { QueueMetricsModule } from './queue-metrics/queue-metrics.module';
import { NodegetServerModule } from './nodeget-server/nodeget-server.module';
import { ResultEventsModule } from './result-events/result-events.module';
import { RetentionModule } from './retention/retention.module';
import { TokenModule } from './token/token.module';

/** `forRootAsync`'s argument, as other Nest modules take it. */
export interface JsResultServiceAsyncOptions {
  imports?: ModuleMetadata['imports'];
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  useFactory: (...args: any[]) => JsResultServiceOptions | Promise<JsResultServiceOptions>;
}

/**
 * The whole service as one Nest module, for an application of its own to import:
 * JSON-RPC over HTTP and WebSocket at `paths` on that application's HTTP server
 * (Fastify or Express), with the service's own DataSource (JSR_DATA_SOURCE)
 * beside the application's. It registers no routes, no global guards, pipes,
 * interceptors or filters, and no health, metrics or OpenRPC routes
 * (`rpc.discover` answers the document over JSON-RPC); the standalone server
 * (AppModule) adds those.
 */
@Module({})
export class JsResultServiceModule {
  static forRoot(options: JsResultServiceOptions = {}): DynamicModule {
    return composeService(ConfigModule.fromOptions({ provider: { provide: JSR_MODULE_OPTIONS, useValue: options } }), { mode: 'attached' });
  }

  static forRootAsync(options: JsResultServiceAsyncOptions): DynamicModule {
    const provider = { provide: JSR_MODULE_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] };
    return composeService(ConfigModule.fromOptions({ provider, imports: options.imports }), { mode: 'attached' });
  }
}

/** The service's modules, configured by `config`, reached through `transport`; `extra` are the standalone server's own. */
export function composeService(config: DynamicModule, transport: JsonRpcTransport, extra: ModuleMetadata['imports'] = []): DynamicModule {
  return {
    module: JsResultServiceModule,
    imports: [
      config,
      DatabaseModule,
      TokenModule,
      JsonRpcTransportModule.forRoot(transport),
      JsResultModule,
      JsWorkerModule,
      CrontabModule,
      ResultEventsModule,
      AuditModule,
      RetentionModule,
      NodegetServerModule,
      ...extra,
      // Last: it reads the queues of the modules above.
      QueueMetricsModule,
    ],
  };
}
