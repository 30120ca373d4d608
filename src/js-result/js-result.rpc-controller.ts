import { Injectable } from '@nestjs/common';
import { RpcMethod } from '../json-rpc/rpc-method.decorator';
import type { RpcParams } from '../json-rpc/rpc-method.registry';
import { TokenGuard } from '../token/token.guard';
import type { DeleteOutcome, JsResultRecord } from './js-result.record';
import { JS_RESULT_PARAM_NAMES, parseJsResultParams } from './js-result.params';
import { JsResultService } from './js-result.service';

/** Maps the `js-result_*` JSON-RPC methods onto the service. */
@Injectable()
export class JsResultRpcController {
  constructor(
    private readonly service: JsResultService,
    private readonly tokenGuard: TokenGuard,
  ) {}

  @RpcMethod('js-result_query', { params: JS_RESULT_PARAM_NAMES })
  async query(params: RpcParams): Promise<JsResultRecord[]> {
    const { token, selection } = parseJsResultParams(params);
    return this.service.query(selection, await this.tokenGuard.authenticate(token));
  }

  @RpcMethod('js-result_delete', { params: JS_RESULT_PARAM_NAMES })
  async delete(params: RpcParams): Promise<DeleteOutcome> {
    const { token, selection } = parseJsResultParams(params);
    return this.service.delete(selection, await this.tokenGuard.authenticate(token));
  }
}
