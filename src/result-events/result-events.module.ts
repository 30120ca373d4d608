import { Module } from '@nestjs/common';
import { JsResultModule } from '../js-result/js-result.module';
import { TokenModule } from '../token/token.module';
import { JsResultSubscriptionsService } from './js-result-subscriptions.service';
import { JsResultWaitService } from './js-result-wait.service';
import { LocalRuns } from './local-runs.registry';
import { ResultEventsRpcController } from './result-events.rpc-controller';
import { ResultFinishedListener } from './result-finished.listener';

/** Finished records pushed to callers: `js-result_wait` and WebSocket subscriptions, woken by the database's announcements. */
@Module({
  imports: [TokenModule, JsResultModule],
  providers: [ResultFinishedListener, LocalRuns, JsResultWaitService, JsResultSubscriptionsService, ResultEventsRpcController],
  // Readiness (HealthModule) reports whether it listens; js-worker lists the runs it starts (LocalRuns).
  exports: [ResultFinishedListener, LocalRuns],
})
export class ResultEventsModule {}
