import { type DynamicModule, Global, Module, type ModuleMetadata, type Provider } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from './app.config';
import { configFromOptions, type JsResultServiceOptions, type ResolvedServiceOptions } from './service.options';

/** The options as the embedding application gave them (forRoot's object, or forRootAsync's factory's result). */
export const JSR_MODULE_OPTIONS = Symbol('JSR_MODULE_OPTIONS');
/** The options checked and resolved: configuration and mount paths. */
export const JSR_RESOLVED_OPTIONS = Symbol('JSR_RESOLVED_OPTIONS');

/** How the options are obtained: a value, or a factory with what it injects. */
export interface OptionsSource {
  imports?: ModuleMetadata['imports'];
  provider: Provider;
}

/**
 * Makes the resolved configuration injectable everywhere as APP_CONFIG. Global
 * within the application: the service's modules inject it wherever they sit;
 * its tokens are symbols, so a host application's providers cannot collide with them.
 */
@Global()
@Module({})
export class ConfigModule {
  /** The standalone server's configuration, already read from the environment. */
  static forRoot(config: AppConfig, paths: readonly string[] = []): DynamicModule {
    return ConfigModule.resolved({ provide: JSR_RESOLVED_OPTIONS, useValue: { config, paths } satisfies ResolvedServiceOptions });
  }

  /** An embedding application's options, checked when the module is instantiated (its start). */
  static fromOptions(source: OptionsSource): DynamicModule {
    const resolve: Provider = {
      provide: JSR_RESOLVED_OPTIONS,
      useFactory: (options: JsResultServiceOptions) => configFromOptions(options),
      inject: [JSR_MODULE_OPTIONS],
    };
    return ConfigModule.resolved(resolve, [source.provider], source.imports);
  }

  private static resolved(resolve: Provider, extra: Provider[] = [], imports: ModuleMetadata['imports'] = []): DynamicModule {
    return {
      module: ConfigModule,
      imports,
      providers: [
        ...extra,
        resolve,
        { provide: APP_CONFIG, useFactory: (resolved: ResolvedServiceOptions) => resolved.config, inject: [JSR_RESOLVED_OPTIONS] },
      ],
      exports: [APP_CONFIG, JSR_RESOLVED_OPTIONS],
    };
  }
}
