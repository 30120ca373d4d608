import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { dataSourceOptions, initializeDataSource } from './data-source.factory';

/** The app's single DataSource: opened, locked (embedded) and migrated before anything uses it. */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => dataSourceOptions(config),
      dataSourceFactory: async (options) => initializeDataSource(options!),
    }),
  ],
})
export class DatabaseModule {}
