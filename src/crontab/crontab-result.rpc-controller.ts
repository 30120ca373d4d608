import { UseGuards } from '@nestjs/common';
import { rpcAction } from '../database/audited-change';
import type { DeleteOutcome } from '../js-result/js-result.record';
import { RpcAuth, type RpcInvocation, RpcInvocationInfo, RpcParams } from '../json-rpc/rpc-args.decorator';
import { RpcController } from '../json-rpc/rpc-controller.decorator';
import { RpcMethod } from '../json-rpc/rpc-method.decorator';
import type { Auth } from '../token/auth';
import { TokenGuard } from '../token/token.guard';
import { CrontabResultParams } from './crontab.params';
import type { CrontabResultRecord } from './crontab.record';
import { CrontabResultService } from './crontab-result.service';
import { CRONTAB_RESULT_DELETE_DOC, CRONTAB_RESULT_QUERY_DOC } from './crontab.openrpc';

/** The `crontab-result_*` JSON-RPC methods, mapped onto the service. */
@RpcController()
@UseGuards(TokenGuard)
export class CrontabResultRpcController {
  constructor(private readonly service: CrontabResultService) {}

  @RpcMethod('crontab-result_query', { doc: CRONTAB_RESULT_QUERY_DOC })
  query(@RpcParams() params: CrontabResultParams, @RpcAuth() auth: Auth): Promise<CrontabResultRecord[]> {
    return this.service.query(params.selection, auth);
  }

  @RpcMethod('crontab-result_delete', { doc: CRONTAB_RESULT_DELETE_DOC })
  delete(@RpcParams() params: CrontabResultParams, @RpcAuth() auth: Auth, @RpcInvocationInfo() invocation: RpcInvocation): Promise<DeleteOutcome> {
    return this.service.delete(params.selection, auth, rpcAction(invocation, auth.tokenKey));
  }
}
