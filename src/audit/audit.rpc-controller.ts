import { UseGuards } from '@nestjs/common';
import { RpcParams } from '../json-rpc/rpc-args.decorator';
import { RpcController } from '../json-rpc/rpc-controller.decorator';
import { RpcMethod } from '../json-rpc/rpc-method.decorator';
import { SuperTokenGuard } from '../token/super-token.guard';
import { TokenGuard } from '../token/token.guard';
import { AUDIT_QUERY_DOC } from './audit.openrpc';
import { AuditQueryParams } from './audit.params';
import { type AuditRecord, AuditService } from './audit.service';

/** `audit_query`: the audit log, for the super token only. */
@RpcController()
@UseGuards(TokenGuard, SuperTokenGuard)
export class AuditRpcController {
  constructor(private readonly audit: AuditService) {}

  @RpcMethod('audit_query', { doc: AUDIT_QUERY_DOC })
  async query(@RpcParams() params: AuditQueryParams): Promise<{ entries: AuditRecord[] }> {
    return { entries: await this.audit.query(params) };
  }
}
