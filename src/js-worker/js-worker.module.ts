import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { JSR_DATA_SOURCE } from '../database/data-source.name';
import { JsResultModule } from '../js-result/js-result.module';
import { JsonRpcModule } from '../json-rpc/json-rpc.module';
import { ResultEventsModule } from '../result-events/result-events.module';
import { TokenModule } from '../token/token.module';
import { WorkerFetch } from './js-worker.fetch';
import { JsWorkerHost } from './js-worker.host';
import { JsWorker } from './js-worker.entity';
import { JsWorkerInstance } from './js-worker.instance';
import { JsWorkerRepository } from './js-worker.repository';
import { JsWorkerRpcController } from './js-worker.rpc-controller';
import { JsWorkerRoutes } from './js-worker.routes';
import { JsWorkerRunner } from './js-worker.runner';
import { JsWorkerRunWrites } from './js-worker.run-writes';
import { JsWorkerService } from './js-worker.service';

/** The `js-worker` namespace: stored scripts, run on sandbox threads, their outcomes written to js_result. */
@Module({
  imports: [TypeOrmModule.forFeature([JsWorker], JSR_DATA_SOURCE), TokenModule, JsonRpcModule, JsResultModule, ResultEventsModule],
  providers: [JsWorkerRepository, JsWorkerRunner, JsWorkerRunWrites, JsWorkerInstance, JsWorkerService, JsWorkerHost, WorkerFetch, JsWorkerRoutes, JsWorkerRpcController],
  exports: [JsWorkerService, JsWorkerRoutes],
})
export class JsWorkerModule {}
