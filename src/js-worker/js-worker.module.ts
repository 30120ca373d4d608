import { Module } from '@nestjs/common';
import { TokenModule } from '../token/token.module';
import { JsWorkerInstance } from './js-worker.instance';
import { JsWorkerRpcController } from './js-worker.rpc-controller';
import { JsWorkerRunner } from './js-worker.runner';
import { JsWorkerService } from './js-worker.service';

/** The `js-worker` namespace: stored scripts, run on sandbox threads, their outcomes written to js_result. */
@Module({
  imports: [TokenModule],
  providers: [JsWorkerRunner, JsWorkerInstance, JsWorkerService, JsWorkerRpcController],
  exports: [JsWorkerService],
})
export class JsWorkerModule {}
