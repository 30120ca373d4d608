import { Injectable, Logger } from '@nestjs/common';
import { DomainError, DomainErrorCode } from '../common/domain.error';
import { JsonRpcErrorCode, type JsonRpcErrorObject, JsonRpcProtocolError } from './json-rpc.types';

const DOMAIN_TO_RPC: Record<DomainErrorCode, { code: JsonRpcErrorCode; prefix: string }> = {
  [DomainErrorCode.InvalidParams]: { code: JsonRpcErrorCode.InvalidParams, prefix: 'Invalid params' },
  [DomainErrorCode.MalformedToken]: { code: JsonRpcErrorCode.TokenParseError, prefix: 'Parse error' },
  [DomainErrorCode.InvalidCredentials]: { code: JsonRpcErrorCode.PermissionDenied, prefix: 'Permission denied' },
  [DomainErrorCode.PermissionDenied]: { code: JsonRpcErrorCode.PermissionDenied, prefix: 'Permission denied' },
  [DomainErrorCode.DatabaseUnavailable]: { code: JsonRpcErrorCode.DatabaseError, prefix: 'Database error' },
  [DomainErrorCode.NotAcceptable]: { code: JsonRpcErrorCode.NotAcceptable, prefix: 'Invalid input' },
};

const PROTOCOL_TITLES: Record<JsonRpcProtocolError['code'], string> = {
  [JsonRpcErrorCode.ParseError]: 'Parse error',
  [JsonRpcErrorCode.InvalidRequest]: 'Invalid Request',
  [JsonRpcErrorCode.MethodNotFound]: 'Method not found',
};

/** The one place that knows how a failure looks on the wire. */
@Injectable()
export class JsonRpcErrorMapper {
  private readonly logger = new Logger(JsonRpcErrorMapper.name);

  toErrorObject(error: unknown, method?: string): JsonRpcErrorObject {
    if (error instanceof JsonRpcProtocolError) {
      return { code: error.code, message: `${PROTOCOL_TITLES[error.code]}: ${error.message}` };
    }
    if (error instanceof DomainError) {
      const { code, prefix } = DOMAIN_TO_RPC[error.code];
      if (error.code === DomainErrorCode.DatabaseUnavailable) {
        this.logger.warn({ method, err: error.cause }, 'database unavailable');
      }
      return { code, message: `${prefix}: ${error.message}` };
    }
    // A bug: the caller learns nothing about it, the log learns everything.
    this.logger.error({ method, err: error }, 'unexpected error in JSON-RPC call');
    return { code: JsonRpcErrorCode.InternalError, message: 'Internal error' };
  }
}
