import { Injectable } from '@nestjs/common';
import { RpcMethod } from '../json-rpc/rpc-method.decorator';
import type { RpcParams } from '../json-rpc/rpc-method.registry';
import { TokenGuard } from '../token/token.guard';
import {
  CREATE_PARAM_NAMES,
  LIST_PARAM_NAMES,
  NAMED_PARAM_NAMES,
  parseCreateParams,
  parseListParams,
  parseNamedParams,
  parseRunConsoleParams,
  parseRunParams,
  parseUpdateParams,
  RUN_CONSOLE_PARAM_NAMES,
  RUN_PARAM_NAMES,
  UPDATE_PARAM_NAMES,
} from './js-worker.params';
import type { JsWorkerRecord, RunConsoleRecord } from './js-worker.record';
import { JsWorkerService } from './js-worker.service';

/** Maps the `js-worker_*` JSON-RPC methods onto the service: params, then the token, then the service. */
@Injectable()
export class JsWorkerRpcController {
  constructor(
    private readonly service: JsWorkerService,
    private readonly tokenGuard: TokenGuard,
  ) {}

  @RpcMethod('js-worker_create', { params: CREATE_PARAM_NAMES })
  async create(params: RpcParams): Promise<{ id: number }> {
    const input = parseCreateParams(params);
    return this.service.create(input, await this.tokenGuard.authenticate(input.token));
  }

  @RpcMethod('js-worker_read', { params: NAMED_PARAM_NAMES })
  async read(params: RpcParams): Promise<JsWorkerRecord> {
    const { token, name } = parseNamedParams(params);
    return this.service.read(name, await this.tokenGuard.authenticate(token));
  }

  @RpcMethod('js-worker_update', { params: UPDATE_PARAM_NAMES })
  async update(params: RpcParams): Promise<JsWorkerRecord> {
    const input = parseUpdateParams(params);
    return this.service.update(input, await this.tokenGuard.authenticate(input.token));
  }

  @RpcMethod('js-worker_delete', { params: NAMED_PARAM_NAMES })
  async delete(params: RpcParams): Promise<{ success: true }> {
    const { token, name } = parseNamedParams(params);
    return this.service.delete(name, await this.tokenGuard.authenticate(token));
  }

  @RpcMethod('js-worker_list_all_js_worker', { params: LIST_PARAM_NAMES })
  async listAll(params: RpcParams): Promise<string[]> {
    const { token } = parseListParams(params);
    return this.service.listAll(await this.tokenGuard.authenticate(token));
  }

  @RpcMethod('js-worker_run', { params: RUN_PARAM_NAMES })
  async run(params: RpcParams): Promise<{ id: number }> {
    const input = parseRunParams(params);
    return this.service.run(input, await this.tokenGuard.authenticate(input.token));
  }

  @RpcMethod('js-worker_run_console', { params: RUN_CONSOLE_PARAM_NAMES })
  async runConsole(params: RpcParams): Promise<RunConsoleRecord> {
    const input = parseRunConsoleParams(params);
    return this.service.runConsole(input, await this.tokenGuard.authenticate(input.token));
  }
}
