import { component, EXAMPLE_TOKEN, INT64, RPC_ERRORS, TOKEN } from '../json-rpc/openrpc.schemas';
import type { JsonSchema, RpcMethodDoc } from '../json-rpc/openrpc.types';
import { OUTCOMES } from './retention.params';

/** The retention methods as the OpenRPC document describes them (LIFECYCLE.md, Retention). */

const POLICY: JsonSchema = component('RetentionPolicy', {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    js_worker: { type: 'string' },
    keep_days: { type: ['integer', 'null'] },
    keep_last: { type: ['integer', 'null'] },
    outcome: { enum: [...OUTCOMES] },
  },
  required: ['id', 'js_worker', 'keep_days', 'keep_last', 'outcome'],
  additionalProperties: false,
});

const EXAMPLE_POLICY = { id: 1, js_worker: 'demo_*', keep_days: 30, keep_last: null, outcome: 'any' };

export const RETENTION_SET_DOC: RpcMethodDoc = {
  summary: 'Sets the policy of a worker pattern and outcome (setting it again replaces it): results older than keep_days or beyond the newest keep_last are deleted',
  auth: 'token',
  permissions: 'Token holding `{"js_result": {"delete": P}}` covering the pattern itself.',
  params: {
    token: TOKEN,
    js_worker: { type: 'string', description: 'a worker name, or a prefix ending in *' },
    keep_days: { oneOf: [{ type: 'integer', minimum: 1, maximum: 36500 }, { type: 'null' }] },
    keep_last: { oneOf: [{ type: 'integer', minimum: 1, maximum: 10_000_000 }, { type: 'null' }] },
    outcome: { oneOf: [{ enum: [...OUTCOMES] }, { type: 'null' }], description: 'default any' },
  },
  required: ['token', 'js_worker'],
  result: { name: 'policy', schema: POLICY },
  errors: [{ code: 108, message: 'Invalid input: neither keep_days nor keep_last, or one out of its range' }],
  examples: [{ name: 'keep 30 days of demo_* results', params: { token: EXAMPLE_TOKEN, js_worker: 'demo_*', keep_days: 30 }, result: EXAMPLE_POLICY }],
};

export const RETENTION_LIST_DOC: RpcMethodDoc = {
  summary: 'The policies the token may read',
  auth: 'token',
  permissions: 'Token holding `{"js_result": {"read": P}}` covering the pattern.',
  params: { token: TOKEN },
  required: ['token'],
  result: { name: 'policies', schema: { type: 'object', properties: { policies: { type: 'array', items: POLICY } }, required: ['policies'] } },
  examples: [{ name: 'every policy', params: { token: EXAMPLE_TOKEN }, result: { policies: [EXAMPLE_POLICY] } }],
};

export const RETENTION_DELETE_DOC: RpcMethodDoc = {
  summary: 'Deletes a policy (the results it would have deleted stay)',
  auth: 'token',
  permissions: 'Token holding `{"js_result": {"delete": P}}` covering the pattern; otherwise 105, as for an unknown id.',
  params: { token: TOKEN, id: INT64 },
  required: ['token', 'id'],
  result: { name: 'deleted', schema: { type: 'object', properties: { success: { const: true } }, required: ['success'] } },
  errors: [RPC_ERRORS.notFound],
  examples: [{ name: 'by id', params: { token: EXAMPLE_TOKEN, id: 1 }, result: { success: true } }],
};
