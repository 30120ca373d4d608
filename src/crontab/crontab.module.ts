import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { JSR_DATA_SOURCE } from '../database/data-source.name';
import { HealthModule } from '../health/health.module';
import { JsWorkerModule } from '../js-worker/js-worker.module';
import { TokenModule } from '../token/token.module';
import { Crontab } from './crontab.entity';
import { CrontabFirings } from './crontab.firings';
import { CrontabRepository } from './crontab.repository';
import { CrontabRpcController } from './crontab.rpc-controller';
import { CrontabScheduler } from './crontab.scheduler';
import { CrontabService } from './crontab.service';
import { CrontabResult } from './crontab-result.entity';
import { CrontabResultRepository } from './crontab-result.repository';
import { CrontabResultRpcController } from './crontab-result.rpc-controller';
import { CrontabResultService } from './crontab-result.service';

/** The `crontab` and `crontab-result` namespaces: scheduled runs of stored workers, fired once across instances. */
@Module({
  imports: [TypeOrmModule.forFeature([Crontab, CrontabResult], JSR_DATA_SOURCE), TokenModule, JsWorkerModule, HealthModule],
  providers: [
    CrontabRepository,
    CrontabResultRepository,
    CrontabFirings,
    CrontabScheduler,
    CrontabService,
    CrontabResultService,
    CrontabRpcController,
    CrontabResultRpcController,
  ],
  exports: [CrontabScheduler],
})
export class CrontabModule {}
