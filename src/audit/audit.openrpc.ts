import { EXAMPLE_TOKEN, TIMESTAMP_MS_OR_NULL, TOKEN } from '../json-rpc/openrpc.schemas';
import type { RpcMethodDoc } from '../json-rpc/openrpc.types';
import { DEFAULT_AUDIT_LIMIT, MAX_AUDIT_LIMIT } from './audit.params';

/** `audit_query` as the OpenRPC document describes it. */
export const AUDIT_QUERY_DOC: RpcMethodDoc = {
  summary: 'The audit log of changes (token, worker, result and policy changes), newest first; credentials are redacted',
  auth: 'supertoken',
  permissions: 'The super token only.',
  params: {
    token: TOKEN,
    from: TIMESTAMP_MS_OR_NULL,
    to: TIMESTAMP_MS_OR_NULL,
    method: { type: ['string', 'null'], description: 'only entries of this method, e.g. "token_delete"' },
    limit: { oneOf: [{ type: 'integer', minimum: 1, maximum: MAX_AUDIT_LIMIT }, { type: 'null' }], description: `default ${DEFAULT_AUDIT_LIMIT}` },
  },
  required: ['token'],
  result: {
    name: 'entries',
    schema: {
      type: 'object',
      properties: {
        entries: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              id: { type: 'integer' },
              at: { type: 'integer', description: 'ms since the epoch' },
              token_key: { type: ['string', 'null'] },
              origin: { type: 'string' },
              method: { type: 'string' },
              params: { type: 'object' },
              affected: { type: 'integer' },
            },
            required: ['id', 'at', 'token_key', 'origin', 'method', 'params', 'affected'],
          },
        },
      },
      required: ['entries'],
    },
  },
  examples: [
    {
      name: 'the newest deletions of results',
      params: { token: EXAMPLE_TOKEN, method: 'js-result_delete', limit: 10 },
      result: {
        entries: [
          { id: 7, at: 1775000000000, token_key: 'h0poApMzvuPkzrEX', origin: 'rpc', method: 'js-result_delete', params: { query: { condition: ['last'] } }, affected: 1 },
        ],
      },
    },
  ],
};
