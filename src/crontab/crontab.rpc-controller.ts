import { UseGuards } from '@nestjs/common';
import { rpcAction } from '../audit/audit.statements';
import { RpcAuth, type RpcInvocation, RpcInvocationInfo, RpcParams } from '../json-rpc/rpc-args.decorator';
import { RpcController } from '../json-rpc/rpc-controller.decorator';
import { RpcMethod } from '../json-rpc/rpc-method.decorator';
import type { Auth } from '../token/auth';
import { TokenGuard } from '../token/token.guard';
import {
  CRONTAB_GET_PARAM_NAMES,
  CRONTAB_NAMED_PARAM_NAMES,
  CRONTAB_SET_ENABLE_PARAM_NAMES,
  CRONTAB_WRITE_PARAM_NAMES,
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

  @RpcMethod('crontab_create', { params: CRONTAB_WRITE_PARAM_NAMES, doc: CRONTAB_CREATE_DOC })
  create(@RpcParams() params: CrontabWriteParams, @RpcAuth() auth: Auth, @RpcInvocationInfo() invocation: RpcInvocation): Promise<{ id: number }> {
    return this.service.create(params, auth, rpcAction(invocation, auth.tokenKey));
  }

  @RpcMethod('crontab_edit', { params: CRONTAB_WRITE_PARAM_NAMES, doc: CRONTAB_EDIT_DOC })
  edit(@RpcParams() params: CrontabWriteParams, @RpcAuth() auth: Auth, @RpcInvocationInfo() invocation: RpcInvocation): Promise<{ id: number; success: true }> {
    return this.service.edit(params, auth, rpcAction(invocation, auth.tokenKey));
  }

  /** The DTO is declared although unused: it is what gets the token checked and handed to the token guard. */
  @RpcMethod('crontab_get', { params: CRONTAB_GET_PARAM_NAMES, doc: CRONTAB_GET_DOC })
  get(@RpcParams() _params: CrontabGetParams, @RpcAuth() auth: Auth): Promise<JsonText> {
    return this.service.get(auth);
  }

  @RpcMethod('crontab_delete', { params: CRONTAB_NAMED_PARAM_NAMES, doc: CRONTAB_DELETE_DOC })
  delete(@RpcParams() params: CrontabNamedParams, @RpcAuth() auth: Auth, @RpcInvocationInfo() invocation: RpcInvocation): Promise<{ success: true }> {
    return this.service.delete(params.name, auth, rpcAction(invocation, auth.tokenKey));
  }

  @RpcMethod('crontab_set_enable', { params: CRONTAB_SET_ENABLE_PARAM_NAMES, doc: CRONTAB_SET_ENABLE_DOC })
  setEnable(
    @RpcParams() params: CrontabSetEnableParams,
    @RpcAuth() auth: Auth,
    @RpcInvocationInfo() invocation: RpcInvocation,
  ): Promise<{ success: true; enabled: boolean }> {
    return this.service.setEnable(params.name, params.enable, auth, rpcAction(invocation, auth.tokenKey));
  }
}
