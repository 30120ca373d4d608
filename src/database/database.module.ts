import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { dataSourceOptions, initializeDataSource } from './data-source.factory';
import { Database } from './database';
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
 * repositories run their statements through its Database.
 */
@Global()
@Module({
  imports: [
    PreparedStatementsModule,
    TypeOrmModule.forRootAsync({
      imports: [PreparedStatementsModule],
      inject: [APP_CONFIG, PreparedStatements],
      useFactory: (config: AppConfig, statements: PreparedStatements) => ({
        ...dataSourceOptions(config, statements),
        // A server started alongside its database waits for it; the embedded one is there or it is not.
        retryAttempts: config.database.kind === 'postgres' ? 10 : 0,
        retryDelay: 1_000,
      }),
      dataSourceFactory: async (options) => initializeDataSource(options!),
    }),
  ],
  providers: [Database],
  exports: [PreparedStatementsModule, Database],
})
export class DatabaseModule {}
