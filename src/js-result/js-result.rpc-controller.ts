import { UseGuards } from '@nestjs/common';
import { rpcAction } from '../database/audited-change';
import type { ReplyBudget } from '../common/reply-budget';
import { RpcAuth, type RpcInvocation, RpcInvocationInfo, RpcParams, RpcReplies } from '../json-rpc/rpc-args.decorator';
import { RpcController } from '../json-rpc/rpc-controller.decorator';
import { RpcMethod } from '../json-rpc/rpc-method.decorator';
import type { Auth } from '../token/auth';
import { TokenGuard } from '../token/token.guard';
import { JS_RESULT_COUNT_DOC, JS_RESULT_DELETE_DOC, JS_RESULT_PAGE_DOC, JS_RESULT_QUERY_DOC } from './js-result.openrpc';
import type { DeleteOutcome } from './js-result.record';
import {
  JsResultPageParams,
  JsResultParams,
  JsResultQueryParams,
} from './js-result.params';
import type { JsonText } from '../common/json-text';
import type { JsonTextStream } from '../common/json-text-stream';
import { type JsResultRecords, JsResultService } from './js-result.service';

/** The `js-result_*` JSON-RPC methods, mapped onto the service. */
@RpcController()
@UseGuards(TokenGuard)
export class JsResultRpcController {
  constructor(private readonly service: JsResultService) {}

  @RpcMethod('js-result_query', { doc: JS_RESULT_QUERY_DOC })
  query(@RpcParams() params: JsResultQueryParams, @RpcAuth() auth: Auth, @RpcReplies() replies: ReplyBudget): Promise<JsResultRecords> {
    return this.service.query(params.selection, auth, params.fields, replies);
  }

  @RpcMethod('js-result_count', { doc: JS_RESULT_COUNT_DOC })
  count(@RpcParams() params: JsResultParams, @RpcAuth() auth: Auth): Promise<{ count: number }> {
    return this.service.count(params.selection, auth);
  }

  @RpcMethod('js-result_page', { doc: JS_RESULT_PAGE_DOC })
  page(@RpcParams() params: JsResultPageParams, @RpcAuth() auth: Auth, @RpcReplies() replies: ReplyBudget): Promise<JsonText | JsonTextStream> {
    return this.service.page(params, auth, replies);
  }

  @RpcMethod('js-result_delete', { doc: JS_RESULT_DELETE_DOC })
  delete(@RpcParams() params: JsResultParams, @RpcAuth() auth: Auth, @RpcInvocationInfo() invocation: RpcInvocation): Promise<DeleteOutcome> {
    return this.service.delete(params.selection, auth, rpcAction(invocation, auth.tokenKey));
  }
}
