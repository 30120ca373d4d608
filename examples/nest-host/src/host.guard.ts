import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';

/** The header the host's own routes require: the host's global guard checks it. */
export const HOST_KEY_HEADER = 'x-host-key';
export const HOST_KEY = 'host-secret';

/** How many times the host's guard ran: JSON-RPC calls must not show here. */
@Injectable()
export class GuardLog {
  count = 0;
}

/** The host application's global guard (APP_GUARD): every route of the host needs its key. */
@Injectable()
export class HostKeyGuard implements CanActivate {
  constructor(private readonly log: GuardLog) {}

  canActivate(context: ExecutionContext): boolean {
    this.log.count++;
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>();
    return request.headers[HOST_KEY_HEADER] === HOST_KEY;
  }
}
