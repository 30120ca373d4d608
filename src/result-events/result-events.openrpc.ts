import { EXAMPLE_RECORD, QUERY, WHOLE_RECORD } from '../js-result/js-result.openrpc';
import { EXAMPLE_TOKEN, INT64, RPC_ERRORS, TOKEN } from '../json-rpc/openrpc.schemas';
import type { RpcMethodDoc } from '../json-rpc/openrpc.types';
import { DEFAULT_WAIT_TIMEOUT_MS, MAX_WAIT_TIMEOUT_MS } from './result-events.params';

/** js-result_wait and the subscriptions as the OpenRPC document describes them (LIFECYCLE.md). */

const READ_PERMISSIONS = 'Token holding `{"js_result": {"read": P}}` under a scope covering the worker.';

export const JS_RESULT_WAIT_DOC: RpcMethodDoc = {
  summary: 'The record once it has finished, or as it stands when the timeout passes',
  description: 'An id that does not exist, or that the token may not read, is 105 (the same for both, so ids cannot be probed).',
  auth: 'token',
  permissions: READ_PERMISSIONS,
  params: {
    token: TOKEN,
    id: INT64,
    timeout_ms: { oneOf: [{ type: 'integer', minimum: 0, maximum: MAX_WAIT_TIMEOUT_MS }, { type: 'null' }], description: `default ${DEFAULT_WAIT_TIMEOUT_MS}` },
  },
  required: ['token', 'id'],
  result: { name: 'record', schema: WHOLE_RECORD },
  errors: [RPC_ERRORS.notFound, RPC_ERRORS.responseTooLarge, { code: 108, message: 'Invalid input: too many js-result_wait calls are waiting on this server; try again later' }],
  examples: [{ name: 'a finished run', params: { token: EXAMPLE_TOKEN, id: 1, timeout_ms: 1000 }, result: EXAMPLE_RECORD }],
};

export const JS_RESULT_SUBSCRIBE_DOC: RpcMethodDoc = {
  summary: 'Sends each matching record to this connection as it finishes (WebSocket only); returns the subscription id',
  description:
    'Notifications: {"jsonrpc":"2.0","method":"js-result_subscription","params":{"subscription":"<id>","result":<record>}}, exactly once per record per subscription. limit and last are refused. At most 100 subscriptions per connection.',
  auth: 'token',
  permissions: READ_PERMISSIONS,
  webSocketOnly: true,
  params: { token: TOKEN, query: QUERY },
  required: ['token', 'query'],
  result: { name: 'subscription', schema: { type: 'string' } },
  errors: [{ code: 108, message: 'Invalid input: subscriptions need a WebSocket connection (or: too many subscriptions on this connection)' }],
  examples: [{ name: 'results of one worker', params: { token: EXAMPLE_TOKEN, query: { condition: [{ js_worker_name: 'demo_worker' }] } }, result: 'a5f0c2d4e6b8' }],
};

export const JS_RESULT_UNSUBSCRIBE_DOC: RpcMethodDoc = {
  summary: 'Ends a subscription of this connection',
  auth: 'none',
  permissions: 'No token: a subscription is reachable only from the connection that holds it.',
  webSocketOnly: true,
  params: { subscription: { type: 'string' } },
  required: ['subscription'],
  result: { name: 'ended', schema: { const: true } },
  errors: [RPC_ERRORS.notFound],
  examples: [{ name: 'a subscription of this connection', params: { subscription: 'a5f0c2d4e6b8' }, result: true }],
};
