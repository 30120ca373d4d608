import { UseGuards } from '@nestjs/common';
import { rpcAction } from '../database/audited-change';
import { RpcAuth, type RpcInvocation, RpcInvocationInfo, RpcParams } from '../json-rpc/rpc-args.decorator';
import { RpcController } from '../json-rpc/rpc-controller.decorator';
import { RpcMethod } from '../json-rpc/rpc-method.decorator';
import type { Auth } from '../token/auth';
import { TokenGuard } from '../token/token.guard';
import {
  CrontabGetParams,
  CrontabNamedParams,
  CrontabSetEnableParams,
  CrontabWriteParams,
} from './crontab.params';
import type { JsonText } from '../common/json-text';
import { CRONTAB_CREATE_DOC, CRONTAB_DELETE_DOC, CRONTAB_EDIT_DOC, CRONTAB_GET_DOC, CRONTAB_SET_ENABLE_DOC } from './crontab.openrpc';
import { CrontabService } from './crontab.service';

/** The `crontab_*` JSON-RPC methods, mapped onto the service. */
@RpcController()
@UseGuards(TokenGuard)
export class CrontabRpcController {
  constructor(private readonly service: CrontabService) {}

  @RpcMethod('crontab_create', { doc: CRONTAB_CREATE_DOC })
  create(@RpcParams() params: CrontabWriteParams, @RpcAuth() auth: Auth, @RpcInvocationInfo() invocation: RpcInvocation): Promise<{ id: number }> {
    return this.service.create(params, auth, rpcAction(invocation, auth.tokenKey));
  }

  @RpcMethod('crontab_edit', { doc: CRONTAB_EDIT_DOC })
  edit(@RpcParams() params: CrontabWriteParams, @RpcAuth() auth: Auth, @RpcInvocationInfo() invocation: RpcInvocation): Promise<{ id: number; success: true }> {
    return this.service.edit(params, auth, rpcAction(invocation, auth.tokenKey));
  }

  /** The DTO is declared although unused: it is what gets the token checked and handed to the token guard. */
  @RpcMethod('crontab_get', { doc: CRONTAB_GET_DOC })
  get(@RpcParams() _params: CrontabGetParams, @RpcAuth() auth: Auth): Promise<JsonText> {
    return this.service.get(auth);
  }

  @RpcMethod('crontab_delete', { doc: CRONTAB_DELETE_DOC })
  delete(@RpcParams() params: CrontabNamedParams, @RpcAuth() auth: Auth, @RpcInvocationInfo() invocation: RpcInvocation): Promise<{ success: true }> {
    return this.service.delete(params.name, auth, rpcAction(invocation, auth.tokenKey));
  }

  @RpcMethod('crontab_set_enable', { doc: CRONTAB_SET_ENABLE_DOC })
  setEnable(
    @RpcParams() params: CrontabSetEnableParams,
    @RpcAuth() auth: Auth,
    @RpcInvocationInfo() invocation: RpcInvocation,
  ): Promise<{ success: true; enabled: boolean }> {
    return this.service.setEnable(params.name, params.enable, auth, rpcAction(invocation, auth.tokenKey));
  }
}
