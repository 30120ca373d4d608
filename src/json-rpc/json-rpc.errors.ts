import { DomainError, DomainErrorCode } from '../common/domain.error';
import { JsonRpcErrorCode, type JsonRpcErrorObject, JsonRpcProtocolError } from './json-rpc.types';

const DOMAIN_TO_RPC: Record<DomainErrorCode, { code: JsonRpcErrorCode; prefix: string }> = {
  [DomainErrorCode.InvalidParams]: { code: JsonRpcErrorCode.InvalidParams, prefix: 'Invalid params' },
  [DomainErrorCode.MalformedToken]: { code: JsonRpcErrorCode.TokenParseError, prefix: 'Parse error' },
  [DomainErrorCode.InvalidCredentials]: { code: JsonRpcErrorCode.PermissionDenied, prefix: 'Permission denied' },
  [DomainErrorCode.PermissionDenied]: { code: JsonRpcErrorCode.PermissionDenied, prefix: 'Permission denied' },
  [DomainErrorCode.DatabaseUnavailable]: { code: JsonRpcErrorCode.DatabaseError, prefix: 'Database error' },
  [DomainErrorCode.NotAcceptable]: { code: JsonRpcErrorCode.NotAcceptable, prefix: 'Invalid input' },
  [DomainErrorCode.NotFound]: { code: JsonRpcErrorCode.NotFound, prefix: 'Not found' },
  [DomainErrorCode.NotFoundInDatabase]: { code: JsonRpcErrorCode.NotFound, prefix: 'Not found in database' },
  [DomainErrorCode.ResponseTooLarge]: { code: JsonRpcErrorCode.NotAcceptable, prefix: 'Invalid input' },
  [DomainErrorCode.TooManyLogins]: { code: JsonRpcErrorCode.PermissionDenied, prefix: 'Permission denied' },
  [DomainErrorCode.InvalidCronExpression]: { code: JsonRpcErrorCode.TokenParseError, prefix: 'Parse error' },
};

const PROTOCOL_TITLES: Record<JsonRpcProtocolError['code'], string> = {
  [JsonRpcErrorCode.ParseError]: 'Parse error',
  [JsonRpcErrorCode.InvalidRequest]: 'Invalid Request',
  [JsonRpcErrorCode.MethodNotFound]: 'Method not found',
};

export const INTERNAL_ERROR: JsonRpcErrorObject = { code: JsonRpcErrorCode.InternalError, message: 'Internal error' };

/** The whole reply when the envelope itself failed: no call's id is known. */
export const INTERNAL_ERROR_REPLY = JSON.stringify({ jsonrpc: '2.0', id: null, error: INTERNAL_ERROR });

/**
 * How a failure looks on the wire, or undefined for an unexpected one (a bug),
 * of which the caller learns nothing but "Internal error".
 */
export function knownErrorObject(error: unknown): JsonRpcErrorObject | undefined {
  if (error instanceof JsonRpcProtocolError) {
    const message = `${PROTOCOL_TITLES[error.code]}: ${error.message}`;
    return error.data === undefined ? { code: error.code, message } : { code: error.code, message, data: error.data };
  }
  if (error instanceof DomainError) {
    const { code, prefix } = DOMAIN_TO_RPC[error.code];
    const message = `${prefix}: ${error.message}`;
    return error.data === undefined ? { code, message } : { code, message, data: error.data };
  }
  return undefined;
}

/** The wire code of any failure, for metrics. */
export function errorCodeOf(error: unknown): JsonRpcErrorCode {
  return knownErrorObject(error)?.code ?? JsonRpcErrorCode.InternalError;
}
