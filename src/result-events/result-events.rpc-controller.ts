import { UseGuards } from '@nestjs/common';
import type { JsonText } from '../common/json-text';
import type { ReplyBudget } from '../common/reply-budget';
import { RpcAuth, RpcConnection, RpcParams, RpcReplies } from '../json-rpc/rpc-args.decorator';
import { RpcController } from '../json-rpc/rpc-controller.decorator';
import { RpcMethod } from '../json-rpc/rpc-method.decorator';
import type { RpcSession } from '../json-rpc/rpc-session';
import type { Auth } from '../token/auth';
import { TokenGuard } from '../token/token.guard';
import { JsResultSubscriptionsService } from './js-result-subscriptions.service';
import { JsResultWaitService } from './js-result-wait.service';
import { JS_RESULT_SUBSCRIBE_DOC, JS_RESULT_UNSUBSCRIBE_DOC, JS_RESULT_WAIT_DOC } from './result-events.openrpc';
import {
  JsResultSubscribeParams,
  JsResultUnsubscribeParams,
  JsResultWaitParams,
} from './result-events.params';

/**
 * Records as they finish: `js-result_wait` (any transport) and the
 * subscriptions (WebSocket only). The token guard is per method, because
 * unsubscribing takes no token: a subscription is reachable only from the
 * connection that holds it.
 */
@RpcController()
export class ResultEventsRpcController {
  constructor(
    private readonly waits: JsResultWaitService,
    private readonly subscriptions: JsResultSubscriptionsService,
  ) {}

  @RpcMethod('js-result_wait', { doc: JS_RESULT_WAIT_DOC })
  @UseGuards(TokenGuard)
  wait(@RpcParams() params: JsResultWaitParams, @RpcAuth() auth: Auth, @RpcReplies() replies: ReplyBudget): Promise<JsonText> {
    return this.waits.wait(params.id, params.timeoutMs, auth, replies);
  }

  @RpcMethod('js-result_subscribe', { doc: JS_RESULT_SUBSCRIBE_DOC })
  @UseGuards(TokenGuard)
  subscribe(@RpcParams() params: JsResultSubscribeParams, @RpcAuth() auth: Auth, @RpcConnection() session?: RpcSession): string {
    return this.subscriptions.subscribe(params.selection, params.token, auth, session);
  }

  @RpcMethod('js-result_unsubscribe', { doc: JS_RESULT_UNSUBSCRIBE_DOC })
  unsubscribe(@RpcParams() params: JsResultUnsubscribeParams, @RpcConnection() session?: RpcSession): true {
    return this.subscriptions.unsubscribe(params.subscription, session);
  }
}
