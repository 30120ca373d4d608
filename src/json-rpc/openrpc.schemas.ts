import { JsonRpcErrorCode } from './json-rpc.types';
import type { JsonSchema, RpcErrorDoc } from './openrpc.types';

/**
 * Building blocks that every feature's `<feature>.openrpc.ts` shares: the
 * 64-bit integer, the credential, and the error objects with their `data`.
 */

/**
 * Marks a schema shared by several methods: the document lists it once under
 * `components.schemas` and refers to it (`$ref`) wherever it is used.
 */
export const COMPONENT_NAME = 'x-component';

export const component = (name: string, schema: JsonSchema): JsonSchema => ({ ...schema, [COMPONENT_NAME]: name });

/** A 64-bit signed integer, sent as a JSON number and kept exact (parse it with a lossless JSON parser). */
export const INT64: JsonSchema = { type: 'integer', format: 'int64', description: '64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)' };
/** A 64-bit unsigned integer. */
export const UINT64: JsonSchema = { type: 'integer', format: 'uint64', minimum: 0, description: '64-bit unsigned integer, a JSON number' };
/** Milliseconds since the epoch, or null. */
export const TIMESTAMP_MS_OR_NULL: JsonSchema = { oneOf: [{ ...INT64, description: 'ms since the epoch' }, { type: 'null' }] };
/** The caller's credential. */
export const TOKEN: JsonSchema = component('Credential', { type: 'string', description: 'the credential: "key:secret" (token) or "username|password" (account)' });
/** Any JSON value. */
export const ANY_JSON: JsonSchema = {};

/** In the examples, where the caller's own credential goes. */
export const EXAMPLE_TOKEN = '<token>';

/** `data` of each error code that carries one (the document's `x-error-data`). */
export const ERROR_DATA_SCHEMAS: Readonly<Record<string, JsonSchema>> = {
  [JsonRpcErrorCode.MethodNotFound]: {
    type: 'object',
    description: 'the method asked for (absent for a name over 200 characters)',
    properties: { method: { type: 'string' } },
    required: ['method'],
  },
  [JsonRpcErrorCode.InvalidParams]: {
    type: 'object',
    description: 'the path of the param that is wrong, as in the message (absent when no one param is to blame)',
    properties: { path: { type: 'string', examples: ['query.condition[2].limit', 'fields[0]', 'token'] } },
    required: ['path'],
  },
  [JsonRpcErrorCode.PermissionDenied]: {
    description: 'only for refused logins: when to retry (throttled, too many password checks), or the limit reached (too many accounts in one request)',
    oneOf: [
      { type: 'object', properties: { retry_after_ms: { type: 'integer', minimum: 1 } }, required: ['retry_after_ms'] },
      { type: 'object', properties: { limit: { type: 'integer', minimum: 1 } }, required: ['limit'] },
    ],
  },
  [JsonRpcErrorCode.NotAcceptable]: {
    type: 'object',
    description: 'only for an answer larger than a reply may be: which limit, its size, the measured size and what the request had left',
    properties: {
      limit: { enum: ['MAX_CALL_RESPONSE_BYTES', 'MAX_RESPONSE_BYTES'] },
      limit_bytes: { type: 'integer' },
      size_bytes: { type: 'integer' },
      left_bytes: { type: 'integer' },
    },
    required: ['limit', 'limit_bytes'],
  },
};

/** The errors a method can answer with, by what they mean. */
export const RPC_ERRORS = {
  invalidParams: {
    code: JsonRpcErrorCode.InvalidParams,
    message: 'Invalid params: a param is missing or not of its documented form; data.path names it',
    data: { path: 'query.condition[2].limit' },
  },
  internal: { code: JsonRpcErrorCode.InternalError, message: 'Internal error: a bug, logged by the server; nothing of it is told' },
  database: { code: JsonRpcErrorCode.DatabaseError, message: 'Database error: the database could not be reached or did not answer in time' },
  tokenParse: { code: JsonRpcErrorCode.TokenParseError, message: 'Parse error: the token is neither "key:secret" nor "username|password"' },
  permissionDenied: { code: JsonRpcErrorCode.PermissionDenied, message: 'Permission denied: invalid credentials, or the token may not do this' },
  tooManyLogins: {
    code: JsonRpcErrorCode.PermissionDenied,
    message: 'Permission denied: too many failed logins or password checks; retry after data.retry_after_ms',
    data: { retry_after_ms: 60_000 },
  },
  notFound: { code: JsonRpcErrorCode.NotFound, message: 'Not found: what the call names does not exist (or may not be seen)' },
  notAcceptable: { code: JsonRpcErrorCode.NotAcceptable, message: 'Invalid input: well-formed, but not acceptable' },
  responseTooLarge: {
    code: JsonRpcErrorCode.NotAcceptable,
    message: 'Invalid input: the answer would be larger than a reply may be; ask for less (data names the limit and the size)',
    data: { limit: 'MAX_CALL_RESPONSE_BYTES', limit_bytes: 16_777_216, size_bytes: 20_000_000 },
  },
} as const satisfies Record<string, RpcErrorDoc>;
