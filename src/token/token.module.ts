import { Module } from '@nestjs/common';
import { TokenAuthenticator } from './token.authenticator';
import { TokenGuard } from './token.guard';
import { TokenService } from './token.service';

@Module({
  providers: [TokenService, TokenAuthenticator, TokenGuard],
  exports: [TokenService, TokenAuthenticator, TokenGuard],
})
export class TokenModule {}
