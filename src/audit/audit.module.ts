import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { JSR_DATA_SOURCE } from '../database/data-source.name';
import { TokenModule } from '../token/token.module';
import { AuditLogEntry } from './audit-log.entity';
import { AuditLogRepository } from './audit-log.repository';
import { AuditRpcController } from './audit.rpc-controller';
import { AuditRetention, AuditService } from './audit.service';

/**
 * The audit log: read with `audit_query`, pruned to AUDIT_KEEP_DAYS; owns the `audit_log` table (AuditLogRepository).
 * Entries are written by the changes themselves (database/audited-change.ts).
 */
@Module({
  imports: [TypeOrmModule.forFeature([AuditLogEntry], JSR_DATA_SOURCE), TokenModule],
  providers: [AuditLogRepository, AuditService, AuditRetention, AuditRpcController],
  exports: [AuditService],
})
export class AuditModule {}
