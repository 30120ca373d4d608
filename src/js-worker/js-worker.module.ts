import { Module } from '@nestjs/common';
import { JsonRpcModule } from '../json-rpc/json-rpc.module';
import { TokenModule } from '../token/token.module';
import { WorkerFetch } from './js-worker.fetch';
import { JsWorkerHost } from './js-worker.host';
import { JsWorkerInstance } from './js-worker.instance';
import { JsWorkerRpcController } from './js-worker.rpc-controller';
import { JsWorkerRoutes } from './js-worker.routes';
import { JsWorkerRunner } from './js-worker.runner';
import { JsWorkerService } from './js-worker.service';

/** The `js-worker` namespace: stored scripts, run on sandbox threads, their outcomes written to js_result. */
@Module({
  imports: [TokenModule, JsonRpcModule],
  providers: [JsWorkerRunner, JsWorkerInstance, JsWorkerService, JsWorkerHost, WorkerFetch, JsWorkerRoutes, JsWorkerRpcController],
  exports: [JsWorkerService, JsWorkerRoutes],
})
export class JsWorkerModule {}
