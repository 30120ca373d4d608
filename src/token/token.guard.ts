import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { DomainError, DomainErrorCode } from '../common/domain.error';
import { rpcCallOf } from '../json-rpc/rpc-call';
import { type LoginRefusal, MetricsService } from '../metrics/metrics.service';
import type { Auth } from './auth';
import type { LoginOrigin } from './login-budget';
import { type LoginRule, LoginRefusedError } from './login-refused.error';
import { TokenAuthenticator } from './token.authenticator';

const REFUSAL_OF_RULE: Record<LoginRule, LoginRefusal> = {
  address: 'address_throttled',
  username: 'username_throttled',
  accounts_per_request: 'accounts_per_request',
  hash_queue: 'hash_queue_full',
};

/** Why a credential was refused, for jsr_login_refusals_total. */
function refusalReason(error: unknown): LoginRefusal | undefined {
  if (error instanceof LoginRefusedError) return REFUSAL_OF_RULE[error.rule];
  if (!(error instanceof DomainError)) return undefined;
  if (error.code === DomainErrorCode.InvalidCredentials) return 'invalid_credentials';
  if (error.code === DomainErrorCode.MalformedToken) return 'malformed_token';
  return undefined;
}

/** What every JSON-RPC params DTO carries: the caller's credentials. */
export interface WithToken {
  token: string;
}

/**
 * A DTO whose caller is identified by another param than `token`:
 * `token_create`'s `father_token`, `token_get`'s `supertoken` when given.
 */
export interface WithCredential {
  readonly credential: string;
}

/**
 * The request each Auth was resolved for: a handler that checks a second
 * credential (`token_get` with `supertoken`) counts it against the same
 * request's login budget. Auth objects are made afresh per call, so the
 * entry goes with the call.
 */
const loginOrigins = new WeakMap<Auth, LoginOrigin>();

/** The login origin of the call `auth` was resolved for (an unknown address if it was not resolved by TokenGuard). */
export function loginOriginOf(auth: Auth): LoginOrigin {
  return loginOrigins.get(auth) ?? { peer: 'unknown', accounts: new Set() };
}

/**
 * Resolves the call's own token into the caller's scopes (`Auth`), which the
 * handler receives with `@RpcAuth()`. Per call, not per request: each call of
 * a batch carries its own token. The params were validated by the guard
 * before it, so the credential is a string here.
 */
@Injectable()
export class TokenGuard implements CanActivate {
  constructor(
    private readonly authenticator: TokenAuthenticator,
    private readonly metrics: MetricsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const call = rpcCallOf(context);
    if (call === undefined) return false;
    const dto = call.dto as Partial<WithToken & WithCredential>;
    let auth: Auth;
    try {
      auth = await this.authenticator.authenticate((dto.credential ?? dto.token)!, call.request);
    } catch (error) {
      const reason = refusalReason(error);
      if (reason !== undefined) this.metrics.recordLoginRefusal(reason);
      throw error;
    }
    loginOrigins.set(auth, call.request);
    call.auth = auth;
    return true;
  }
}
