import { component, EXAMPLE_TOKEN, RPC_ERRORS, TIMESTAMP_MS_OR_NULL, TOKEN } from '../json-rpc/openrpc.schemas';
import type { JsonSchema, RpcMethodDoc } from '../json-rpc/openrpc.types';

/** NodeGet's `token_*` methods as the OpenRPC document describes them (TOKENS.md). */

/** `[{"scopes": [...], "permissions": [...]}]`; scope and permission kinds this service does not know are kept. */
export const TOKEN_LIMITS: JsonSchema = component('TokenLimits', {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      scopes: { type: 'array', items: { description: '"global", {"js_worker": "<name or prefix*>"}, or a kind kept and ignored' } },
      permissions: { type: 'array', items: { description: '{"js_result": {"read": P}}, {"js_result": {"delete": P}}, {"js_worker": ...}, or a kind kept and ignored' } },
    },
  },
});

const TOKEN_OBJECT: JsonSchema = component('Token', {
  type: 'object',
  properties: {
    version: { const: 1 },
    token_key: { type: 'string' },
    timestamp_from: TIMESTAMP_MS_OR_NULL,
    timestamp_to: TIMESTAMP_MS_OR_NULL,
    token_limit: TOKEN_LIMITS,
    username: { type: ['string', 'null'] },
  },
  required: ['version', 'token_key', 'timestamp_from', 'timestamp_to', 'token_limit', 'username'],
  additionalProperties: false,
});

const ISSUED: JsonSchema = {
  type: 'object',
  properties: { key: { type: 'string' }, secret: { type: 'string' } },
  required: ['key', 'secret'],
  additionalProperties: false,
};

const TARGET: JsonSchema = { type: 'string', description: 'a token key, a username, or a full credential' };
const SUPER = 'The super token only.';
const DEMO_LIMITS = [{ scopes: [{ js_worker: 'demo_*' }], permissions: [{ js_result: { read: 'demo_*' } }] }];
const EXAMPLE_OBJECT = { version: 1, token_key: 'h0poApMzvuPkzrEX', timestamp_from: null, timestamp_to: null, token_limit: DEMO_LIMITS, username: 'demo_user' };

export const TOKEN_GET_DOC: RpcMethodDoc = {
  summary: "The caller's own token; with supertoken (the super token), the token that token names",
  auth: 'token',
  permissions: 'Any valid token for its own object; naming another token needs the super token as supertoken.',
  params: { token: TOKEN, supertoken: { type: ['string', 'null'], description: 'the super token, to read another token named by token' } },
  required: ['token'],
  result: { name: 'token', schema: TOKEN_OBJECT },
  errors: [RPC_ERRORS.notFound],
  examples: [{ name: 'your own token', params: { token: EXAMPLE_TOKEN }, result: { ...EXAMPLE_OBJECT, token_limit: [], username: 'root' } }],
};

export const TOKEN_CREATE_DOC: RpcMethodDoc = {
  summary: 'Creates a token (and, with username and password, an account); the secret is shown only here',
  auth: 'supertoken',
  permissions: SUPER,
  params: {
    father_token: TOKEN,
    token_creation: {
      type: 'object',
      properties: {
        token_limit: TOKEN_LIMITS,
        username: { type: ['string', 'null'] },
        password: { type: ['string', 'null'] },
        timestamp_from: TIMESTAMP_MS_OR_NULL,
        timestamp_to: TIMESTAMP_MS_OR_NULL,
        version: { description: 'ignored (always 1)' },
      },
      required: ['token_limit'],
    },
  },
  required: ['father_token', 'token_creation'],
  result: { name: 'issued', schema: ISSUED },
  errors: [{ code: 108, message: 'Invalid input: the username is taken, or the limits are not of the documented form' }],
  examples: [
    {
      name: 'an account that may read demo_* results',
      params: { father_token: EXAMPLE_TOKEN, token_creation: { token_limit: DEMO_LIMITS, username: 'new_user', password: 'a long password' } },
      result: { key: 'h0poApMzvuPkzrEX', secret: 'mBz6q5UUPJqrEOkfmFBp0iesZMcdYYhZ' },
    },
  ],
};

export const TOKEN_EDIT_DOC: RpcMethodDoc = {
  summary: "Replaces a token's limits",
  auth: 'supertoken',
  permissions: SUPER,
  params: { token: TOKEN, target_token: TARGET, limit: TOKEN_LIMITS },
  required: ['token', 'target_token', 'limit'],
  result: {
    name: 'edited',
    schema: { type: 'object', properties: { success: { const: true }, id: { type: 'integer' }, token_key: { type: 'string' } }, required: ['success', 'id', 'token_key'] },
  },
  errors: [RPC_ERRORS.notFound, RPC_ERRORS.notAcceptable],
  examples: [{ name: 'read demo_* results', params: { token: EXAMPLE_TOKEN, target_token: 'demo_user', limit: DEMO_LIMITS }, result: { success: true, id: 2, token_key: 'h0poApMzvuPkzrEX' } }],
};

export const TOKEN_DELETE_DOC: RpcMethodDoc = {
  summary: 'Deletes a token (not the super token)',
  auth: 'supertoken',
  permissions: SUPER,
  params: { token: TOKEN, target_token: TARGET },
  required: ['token', 'target_token'],
  result: {
    name: 'deleted',
    schema: {
      type: 'object',
      properties: { message: { type: 'string' }, rows_affected: { type: 'integer' }, matched_by: { enum: ['token_key', 'username'] } },
      required: ['message', 'rows_affected', 'matched_by'],
    },
  },
  errors: [RPC_ERRORS.notFound, RPC_ERRORS.notAcceptable],
  examples: [
    {
      name: 'by username',
      params: { token: EXAMPLE_TOKEN, target_token: 'demo_user' },
      result: { message: 'Token demo_user deleted successfully by SuperToken', rows_affected: 1, matched_by: 'username' },
    },
  ],
};

export const TOKEN_CHANGE_PASSWORD_DOC: RpcMethodDoc = {
  summary: "Sets an account's password",
  auth: 'supertoken',
  permissions: SUPER,
  params: { token: TOKEN, target_token: TARGET, new_password: { type: 'string' } },
  required: ['token', 'target_token', 'new_password'],
  result: {
    name: 'changed',
    schema: { type: 'object', properties: { success: { const: true }, message: { type: 'string' } }, required: ['success', 'message'] },
  },
  errors: [RPC_ERRORS.notFound, RPC_ERRORS.notAcceptable],
  examples: [
    { name: 'a new password', params: { token: EXAMPLE_TOKEN, target_token: 'demo_user', new_password: 'another long password' }, result: { success: true, message: 'Password changed successfully' } },
  ],
};

export const TOKEN_ROLL_SECRET_DOC: RpcMethodDoc = {
  summary: "Gives a token a new secret (the old one stops working at once); the secret is shown only here",
  auth: 'supertoken',
  permissions: SUPER,
  params: { token: TOKEN, target_token: TARGET },
  required: ['token', 'target_token'],
  result: { name: 'issued', schema: ISSUED },
  errors: [RPC_ERRORS.notFound],
  examples: [{ name: 'by username', params: { token: EXAMPLE_TOKEN, target_token: 'demo_user' }, result: { key: 'h0poApMzvuPkzrEX', secret: 'mBz6q5UUPJqrEOkfmFBp0iesZMcdYYhZ' } }],
};

export const TOKEN_LIST_DOC: RpcMethodDoc = {
  summary: 'Every token, without secrets',
  auth: 'supertoken',
  permissions: SUPER,
  params: { token: TOKEN },
  required: ['token'],
  result: { name: 'tokens', schema: { type: 'object', properties: { tokens: { type: 'array', items: TOKEN_OBJECT } }, required: ['tokens'] } },
  examples: [{ name: 'all tokens', params: { token: EXAMPLE_TOKEN }, result: { tokens: [EXAMPLE_OBJECT] } }],
};
