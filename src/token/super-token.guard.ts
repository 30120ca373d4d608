import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { DomainError, DomainErrorCode } from '../common/domain.error';
import { rpcCallOf } from '../json-rpc/rpc-call';
import type { Auth } from './auth';

/**
 * For methods only the super token may call. Goes after TokenGuard: the
 * credentials are checked first (a bad one is 102 Invalid credentials), then
 * whether they are the super token's.
 */
@Injectable()
export class SuperTokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const call = rpcCallOf(context);
    if (call === undefined) return false;
    if ((call.auth as Auth | undefined)?.kind !== 'super') {
      throw new DomainError(DomainErrorCode.PermissionDenied, `only the SuperToken may call ${call.method}`);
    }
    return true;
  }
}
