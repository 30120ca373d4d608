import { Module } from '@nestjs/common';
import { TokenModule } from '../token/token.module';
import { AuditRpcController } from './audit.rpc-controller';
import { AuditRetention, AuditService } from './audit.service';

/** The audit log: read with `audit_query`, pruned to AUDIT_KEEP_DAYS. Entries are written by the changes themselves. */
@Module({
  imports: [TokenModule],
  providers: [AuditService, AuditRetention, AuditRpcController],
  exports: [AuditService],
})
export class AuditModule {}
