import { UseGuards } from '@nestjs/common';
import { rpcAction } from '../database/audited-change';
import { RpcAuth, type RpcInvocation, RpcInvocationInfo, RpcParams } from '../json-rpc/rpc-args.decorator';
import { RpcController } from '../json-rpc/rpc-controller.decorator';
import { RpcMethod } from '../json-rpc/rpc-method.decorator';
import type { Auth } from '../token/auth';
import { TokenGuard } from '../token/token.guard';
import { RETENTION_DELETE_DOC, RETENTION_LIST_DOC, RETENTION_SET_DOC } from './retention.openrpc';
import {
  RetentionDeleteParams,
  RetentionListParams,
  RetentionSetParams,
} from './retention.params';
import { type RetentionPolicyRecord, RetentionService } from './retention.service';

/** `js-result_retention_set|list|delete`: the policies RetentionSweeper applies. */
@RpcController()
@UseGuards(TokenGuard)
export class RetentionRpcController {
  constructor(private readonly retention: RetentionService) {}

  @RpcMethod('js-result_retention_set', { doc: RETENTION_SET_DOC })
  set(@RpcParams() params: RetentionSetParams, @RpcAuth() auth: Auth, @RpcInvocationInfo() invocation: RpcInvocation): Promise<RetentionPolicyRecord> {
    const { pattern, keepDays, keepLast, outcome } = params;
    return this.retention.set({ pattern, keepDays, keepLast, outcome }, auth, rpcAction(invocation, auth.tokenKey));
  }

  @RpcMethod('js-result_retention_list', { doc: RETENTION_LIST_DOC })
  async list(@RpcParams() _params: RetentionListParams, @RpcAuth() auth: Auth): Promise<{ policies: RetentionPolicyRecord[] }> {
    return { policies: await this.retention.list(auth) };
  }

  @RpcMethod('js-result_retention_delete', { doc: RETENTION_DELETE_DOC })
  delete(@RpcParams() params: RetentionDeleteParams, @RpcAuth() auth: Auth, @RpcInvocationInfo() invocation: RpcInvocation): Promise<{ success: true }> {
    return this.retention.delete(params.id, auth, rpcAction(invocation, auth.tokenKey));
  }
}
