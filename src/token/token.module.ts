import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { JSR_DATA_SOURCE } from '../database/data-source.name';
import { LoginBudget } from './login-budget';
import { LoginThrottleRepository } from './login-throttle.repository';
import { SuperTokenGuard } from './super-token.guard';
import { TokenChanges } from './token-changes';
import { TokenChangesListener } from './token-changes.listener';
import { TokenAuthenticator } from './token.authenticator';
import { Token } from './token.entity';
import { TokenGuard } from './token.guard';
import { TokenRepository } from './token.repository';
import { TokenRpcController } from './token.rpc-controller';
import { TokenService } from './token.service';

/**
 * Tokens: authenticating callers (TokenGuard), administering tokens (the `token_*` methods), hearing of changes.
 * Owns the `token` table (TokenRepository) and the `login_throttle` table (LoginThrottleRepository).
 */
@Module({
  imports: [TypeOrmModule.forFeature([Token], JSR_DATA_SOURCE)],
  providers: [
    TokenRepository,
    LoginThrottleRepository,
    TokenChanges,
    TokenChangesListener,
    TokenService,
    LoginBudget,
    TokenAuthenticator,
    TokenGuard,
    SuperTokenGuard,
    TokenRpcController,
  ],
  exports: [TokenService, TokenAuthenticator, TokenGuard, SuperTokenGuard, TokenChangesListener],
})
export class TokenModule {}
