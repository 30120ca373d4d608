import { UseGuards } from '@nestjs/common';
import { rpcAction } from '../database/audited-change';
import { RpcAuth, type RpcInvocation, RpcInvocationInfo, RpcParams } from '../json-rpc/rpc-args.decorator';
import { RpcController } from '../json-rpc/rpc-controller.decorator';
import { RpcMethod } from '../json-rpc/rpc-method.decorator';
import type { Auth } from '../token/auth';
import { TokenGuard } from '../token/token.guard';
import {
  JS_WORKER_CREATE_DOC,
  JS_WORKER_DELETE_DOC,
  JS_WORKER_LIST_DOC,
  JS_WORKER_READ_DOC,
  JS_WORKER_RUN_CONSOLE_DOC,
  JS_WORKER_RUN_DOC,
  JS_WORKER_UPDATE_DOC,
} from './js-worker.openrpc';
import {
  CreateWorkerParamsDto,
  ListWorkersParamsDto,
  NamedWorkerParamsDto,
  RunConsoleParamsDto,
  RunWorkerParamsDto,
  UpdateWorkerParamsDto,
} from './js-worker.params';
import type { JsWorkerRecord, JsWorkerSummary, RunConsoleRecord } from './js-worker.record';
import { JsWorkerService } from './js-worker.service';

/** The `js-worker_*` JSON-RPC methods, mapped onto the service. */
@RpcController()
@UseGuards(TokenGuard)
export class JsWorkerRpcController {
  constructor(private readonly service: JsWorkerService) {}

  @RpcMethod('js-worker_create', { doc: JS_WORKER_CREATE_DOC })
  create(@RpcParams() params: CreateWorkerParamsDto, @RpcAuth() auth: Auth, @RpcInvocationInfo() invocation: RpcInvocation): Promise<JsWorkerSummary> {
    return this.service.create(params, auth, rpcAction(invocation, auth.tokenKey));
  }

  @RpcMethod('js-worker_read', { doc: JS_WORKER_READ_DOC })
  read(@RpcParams() params: NamedWorkerParamsDto, @RpcAuth() auth: Auth): Promise<JsWorkerRecord> {
    return this.service.read(params.name, auth);
  }

  @RpcMethod('js-worker_update', { doc: JS_WORKER_UPDATE_DOC })
  update(@RpcParams() params: UpdateWorkerParamsDto, @RpcAuth() auth: Auth, @RpcInvocationInfo() invocation: RpcInvocation): Promise<JsWorkerRecord & { success: true }> {
    return this.service.update(params, auth, rpcAction(invocation, auth.tokenKey));
  }

  @RpcMethod('js-worker_delete', { doc: JS_WORKER_DELETE_DOC })
  delete(@RpcParams() params: NamedWorkerParamsDto, @RpcAuth() auth: Auth, @RpcInvocationInfo() invocation: RpcInvocation): Promise<{ success: true }> {
    return this.service.delete(params.name, auth, rpcAction(invocation, auth.tokenKey));
  }

  /** The DTO is declared although unused: it is what gets the token checked and handed to the token guard. */
  @RpcMethod('js-worker_list_all_js_worker', { doc: JS_WORKER_LIST_DOC })
  listAll(@RpcParams() _params: ListWorkersParamsDto, @RpcAuth() auth: Auth): Promise<string[]> {
    return this.service.listAll(auth);
  }

  @RpcMethod('js-worker_run', { doc: JS_WORKER_RUN_DOC })
  run(@RpcParams() params: RunWorkerParamsDto, @RpcAuth() auth: Auth, @RpcInvocationInfo() invocation: RpcInvocation): Promise<{ id: number }> {
    return this.service.run(params, auth, invocation.requestId);
  }

  @RpcMethod('js-worker_run_console', { doc: JS_WORKER_RUN_CONSOLE_DOC })
  runConsole(@RpcParams() params: RunConsoleParamsDto, @RpcAuth() auth: Auth): Promise<RunConsoleRecord> {
    return this.service.runConsole(params, auth);
  }
}
