import { Logger } from '@nestjs/common';
import type { LogSettings } from '../config/app.config';
import type { JsonRpcId } from './json-rpc.types';
import type { RpcRequest } from './rpc-request';

/** Longer string ids are cut in the log: the client chooses them, and a line must stay a line's size. */
const MAX_LOGGED_ID_CHARS = 64;

function loggedId(id: JsonRpcId | undefined): string | number | null | undefined {
  if (typeof id === 'bigint') return id.toString();
  if (typeof id === 'string' && id.length > MAX_LOGGED_ID_CHARS) return `${id.slice(0, MAX_LOGGED_ID_CHARS)}…`;
  return id;
}

/** The key of the token a call was made with, when it was resolved: a public name, never its secret. */
function tokenKeyOf(auth: unknown): string | undefined {
  const key = (auth as { tokenKey?: unknown } | undefined)?.tokenKey;
  return typeof key === 'string' ? key : undefined;
}

/**
 * The access log (ACCESS_LOG: one line per call) and the slow-call log
 * (SLOW_CALL_MS: a warning per call slower than that). Its line carries the
 * request's `reqId`: from the logging context the dispatcher runs calls in
 * with ACCESS_LOG, else as a field of its own.
 * With both off a call costs one comparison here.
 */
export class RpcCallLog {
  private readonly logger = new Logger('AccessLog');
  private readonly accessLog: boolean;
  private readonly slowCallMs: number;
  private readonly enabled: boolean;

  constructor(settings: Pick<LogSettings, 'accessLog' | 'slowCallMs'>) {
    this.accessLog = settings.accessLog;
    this.slowCallMs = settings.slowCallMs;
    this.enabled = this.accessLog || this.slowCallMs > 0;
  }

  /** `method` is the registered name (or `unknown`); `started` is performance.now() when the call began. */
  finished(method: string, id: JsonRpcId | undefined, code: number, started: number, request: RpcRequest, auth: unknown): void {
    if (!this.enabled) return;
    const ms = performance.now() - started;
    const slow = this.slowCallMs > 0 && ms >= this.slowCallMs;
    if (!slow && !this.accessLog) return;
    const line = {
      method,
      id: loggedId(id),
      code,
      ms: Math.round(ms * 10) / 10,
      peer: request.peer,
      tokenKey: tokenKeyOf(auth),
      // Without ACCESS_LOG the call ran outside a logging context, which would have added it.
      ...request.logFields,
    };
    if (slow) this.logger.warn(line, `slow JSON-RPC call: ${method} took ${Math.round(ms)} ms`);
    else this.logger.log(line, 'JSON-RPC call');
  }
}
