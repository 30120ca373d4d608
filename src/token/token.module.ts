import { Module } from '@nestjs/common';
import { LoginBudget } from './login-budget';
import { SuperTokenGuard } from './super-token.guard';
import { TokenChanges } from './token-changes';
import { TokenChangesListener } from './token-changes.listener';
import { TokenAuthenticator } from './token.authenticator';
import { TokenGuard } from './token.guard';
import { TokenRpcController } from './token.rpc-controller';
import { TokenService } from './token.service';

/** Tokens: authenticating callers (TokenGuard), administering tokens (the `token_*` methods), hearing of changes. */
@Module({
  providers: [TokenChanges, TokenChangesListener, TokenService, LoginBudget, TokenAuthenticator, TokenGuard, SuperTokenGuard, TokenRpcController],
  exports: [TokenService, TokenAuthenticator, TokenGuard, SuperTokenGuard, TokenChangesListener],
})
export class TokenModule {}
