import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { dataSourceOptions, initializeDataSource } from './data-source.factory';

/** The app's single DataSource: opened, locked (embedded) and migrated before anything uses it. */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        ...dataSourceOptions(config),
        // A server started alongside its database waits for it; the embedded one is there or it is not.
        retryAttempts: config.database.kind === 'postgres' ? 10 : 0,
        retryDelay: 1_000,
      }),
      dataSourceFactory: async (options) => initializeDataSource(options!),
    }),
  ],
})
export class DatabaseModule {}
