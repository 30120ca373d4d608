import { Module } from '@nestjs/common';
import { TokenModule } from '../token/token.module';
import { JsResultRpcController } from './js-result.rpc-controller';
import { JsResultService } from './js-result.service';

@Module({
  imports: [TokenModule],
  providers: [JsResultService, JsResultRpcController],
  exports: [JsResultService],
})
export class JsResultModule {}
