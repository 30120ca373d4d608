import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import { DomainError, DomainErrorCode } from '../common/domain.error';
import { INTERNAL_ERROR, knownErrorObject } from './json-rpc.errors';
import { rpcCallOf } from './rpc-call';
import { RpcFailure } from './rpc-failure';

/**
 * The one place where a failed JSON-RPC call becomes a JSON-RPC error: domain
 * errors get their code and message, anything else is a bug, answered -32603
 * with nothing of it, and logged with everything.
 */
@Catch()
export class JsonRpcExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(JsonRpcExceptionFilter.name);

  catch(error: unknown, host: ArgumentsHost): RpcFailure {
    const call = rpcCallOf(host as Parameters<typeof rpcCallOf>[0]);
    const method = call?.method;
    const known = knownErrorObject(error);
    if (known === undefined) {
      this.logger.error({ method, err: error, ...call?.request.logFields }, 'unexpected error in JSON-RPC call');
      return new RpcFailure(INTERNAL_ERROR);
    }
    if (error instanceof DomainError && error.code === DomainErrorCode.DatabaseUnavailable) {
      this.logger.warn({ method, err: error.cause, ...call?.request.logFields }, 'database unavailable');
    }
    return new RpcFailure(known);
  }
}
