import { Module } from '@nestjs/common';
import { TokenGuard } from './token.guard';
import { TokenService } from './token.service';

@Module({
  providers: [TokenService, TokenGuard],
  exports: [TokenService, TokenGuard],
})
export class TokenModule {}
