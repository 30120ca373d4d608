import { Module } from '@nestjs/common';
import { TokenModule } from '../token/token.module';
import { RetentionRpcController } from './retention.rpc-controller';
import { RetentionService } from './retention.service';
import { RetentionSweeper } from './retention.sweeper';

/** Retention policies and the sweeper that deletes the results they expire. */
@Module({
  imports: [TokenModule],
  providers: [RetentionService, RetentionSweeper, RetentionRpcController],
  exports: [RetentionSweeper],
})
export class RetentionModule {}
