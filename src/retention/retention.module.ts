import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { JSR_DATA_SOURCE } from '../database/data-source.name';
import { JsResultModule } from '../js-result/js-result.module';
import { TokenModule } from '../token/token.module';
import { RetentionPolicy } from './retention-policy.entity';
import { RetentionPolicyRepository } from './retention-policy.repository';
import { RetentionRpcController } from './retention.rpc-controller';
import { RetentionService } from './retention.service';
import { RetentionSweeper } from './retention.sweeper';

/** Retention policies and the sweeper that deletes the results they expire. */
@Module({
  imports: [TypeOrmModule.forFeature([RetentionPolicy], JSR_DATA_SOURCE), TokenModule, JsResultModule],
  providers: [RetentionPolicyRepository, RetentionService, RetentionSweeper, RetentionRpcController],
  exports: [RetentionSweeper],
})
export class RetentionModule {}
