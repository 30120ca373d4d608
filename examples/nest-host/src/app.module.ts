import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { JsResultServiceModule } from 'js-result-service';
import { HostController } from './host.controller';
import { GuardLog, HostKeyGuard } from './host.guard';

const LOCAL_POSTGRES = 'postgres://postgres@127.0.0.1:5432/postgres';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    // The host's own default DataSource.
    TypeOrmModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        type: 'postgres',
        url: config.get<string>('HOST_DATABASE_URL') ?? LOCAL_POSTGRES,
        retryAttempts: 0,
      }),
    }),
    // The service, with a DataSource of its own (JSR_DATA_SOURCE): a PostgreSQL database when
    // JSR_DATABASE_URL is set, else an in-memory embedded one.
    JsResultServiceModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        databaseUrl: config.get<string>('JSR_DATABASE_URL'),
        dataDir: 'memory://',
        paths: ['/rpc'],
        jsWorkerPoolSize: 1,
        shutdownTimeoutMs: 2_000,
      }),
    }),
  ],
  controllers: [HostController],
  providers: [GuardLog, { provide: APP_GUARD, useClass: HostKeyGuard }],
})
export class AppModule {}
