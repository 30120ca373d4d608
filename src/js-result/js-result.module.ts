import { Module } from '@nestjs/common';
import { NodegetServerModule } from '../nodeget-server/nodeget-server.module';
import { TypeOrmModule } from '@nestjs/typeorm';
import { JSR_DATA_SOURCE } from '../database/data-source.name';
import { TokenModule } from '../token/token.module';
import { JsResult } from './js-result.entity';
import { JsResultRepository } from './js-result.repository';
import { JsResultRpcController } from './js-result.rpc-controller';
import { JsResultService } from './js-result.service';

/**
 * The `js-result` namespace, and the owner of the js_result table: every
 * other module that reads, writes or deletes results imports this one for
 * JsResultRepository (so this module imports none of them).
 */
@Module({
  imports: [TypeOrmModule.forFeature([JsResult], JSR_DATA_SOURCE), TokenModule, NodegetServerModule],
  providers: [JsResultRepository, JsResultService, JsResultRpcController],
  exports: [JsResultRepository, JsResultService],
})
export class JsResultModule {}
