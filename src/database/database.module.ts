import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { dataSourceOptions, initializeDataSource } from './data-source.factory';
import { Database } from './database';
import { JSR_DATA_SOURCE } from './data-source.name';
import { PreparedStatements } from './prepared-statements';

/**
 * The registry of named statements of the app's DataSource: its pool names
 * what services register here. Global, so services inject it as they inject
 * the DataSource.
 */
@Global()
@Module({
  providers: [{ provide: PreparedStatements, useFactory: () => new PreparedStatements() }],
  exports: [PreparedStatements],
})
export class PreparedStatementsModule {}

/**
 * The app's single DataSource: opened, locked (embedded) and migrated before anything uses it;
 * repositories run their statements through its Database. Its entities are the ones the
 * feature modules register (autoLoadEntities), so this floor imports none of them.
 */
@Global()
@Module({
  imports: [
    PreparedStatementsModule,
    TypeOrmModule.forRootAsync({
      // Under a name of its own, so that an application embedding the service keeps its default DataSource.
      name: JSR_DATA_SOURCE,
      imports: [PreparedStatementsModule],
      inject: [APP_CONFIG, PreparedStatements],
      useFactory: (config: AppConfig, statements: PreparedStatements) => ({
        // Each module registers its own entities (TypeOrmModule.forFeature); none are known here.
        ...dataSourceOptions(config, statements, []),
        autoLoadEntities: true,
        // A server started alongside its database waits for it; the embedded one is there or it is not.
        retryAttempts: config.database.kind === 'postgres' ? 10 : 0,
        retryDelay: 1_000,
        // An embedding application that applies the migrations itself (migrationsRun: false) gets none run at start.
        ...(config.migrationsRun === false ? { migrations: [] } : {}),
      }),
      dataSourceFactory: async (options) => initializeDataSource(options!),
    }),
  ],
  providers: [Database],
  exports: [PreparedStatementsModule, Database],
})
export class DatabaseModule {}
