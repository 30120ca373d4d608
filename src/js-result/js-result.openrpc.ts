import { component, EXAMPLE_TOKEN, INT64, RPC_ERRORS, TIMESTAMP_MS_OR_NULL, TOKEN, UINT64 } from '../json-rpc/openrpc.schemas';
import type { JsonSchema, RpcMethodDoc } from '../json-rpc/openrpc.types';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, RECORD_FIELDS } from './js-result.params';

/**
 * The js-result methods as the OpenRPC document describes them (JSRESULT.md,
 * LIFECYCLE.md). Declared here rather than derived from the DTOs: their
 * params are parsed by `@ParsedBy` parsers, which class-validator metadata
 * does not describe.
 */

/** A flag condition in both of its forms (`"last"` and `{"last": null}`); also used by other record kinds' conditions. */
export const flag = (name: string, holds: string): JsonSchema => ({
  title: name,
  description: `${holds}; also written {"${name}": null}`,
  oneOf: [{ const: name }, { type: 'object', properties: { [name]: { type: 'null' } }, required: [name], additionalProperties: false }],
});

/** A condition with a value: an object with exactly this key. */
export const valued = (name: string, value: JsonSchema, holds: string): JsonSchema => ({
  title: name,
  description: holds,
  type: 'object',
  properties: { [name]: value },
  required: [name],
  additionalProperties: false,
});

export const RANGE: JsonSchema = { type: 'array', items: INT64, minItems: 2, maxItems: 2 };

/** One condition: a flag, or an object with exactly one key (JSRESULT.md §2). */
export const CONDITION: JsonSchema = component('Condition', {
  description: 'one condition: a flag, or an object with exactly one key',
  oneOf: [
    valued('id', INT64, 'id = N'),
    valued('js_worker_id', INT64, 'js_worker_id = N'),
    valued('js_worker_name', { type: 'string' }, 'js_worker_name = S (exact; also drives the permission check)'),
    valued('run_type', { type: 'string' }, 'run_type = S'),
    valued('start_time_from_to', RANGE, 'A <= start_time <= B'),
    valued('start_time_from', INT64, 'start_time >= A'),
    valued('start_time_to', INT64, 'start_time <= B'),
    valued('finish_time_from_to', RANGE, 'A <= finish_time <= B'),
    valued('finish_time_from', INT64, 'finish_time >= A'),
    valued('finish_time_to', INT64, 'finish_time <= B'),
    valued('limit', UINT64, 'keep only the newest N rows (above 10000: 10000)'),
    flag('is_success', 'finished with a result'),
    flag('is_failure', 'finished with an error message'),
    flag('is_running', 'not finished'),
    flag('last', 'keep only the newest row'),
  ],
});

/** `{"condition": [...]}`: every condition must hold. */
export const QUERY: JsonSchema = component('Query', {
  type: 'object',
  description: 'every condition must hold (AND); an empty list selects every record the token may see',
  properties: { condition: { type: 'array', items: CONDITION } },
  required: ['condition'],
});

const RECORD_PROPERTIES = {
  id: INT64,
  js_worker_id: INT64,
  js_worker_name: { type: 'string' },
  run_type: { type: 'string', description: 'call, inline_call, cron, route, ... (free text)' },
  start_time: TIMESTAMP_MS_OR_NULL,
  finish_time: TIMESTAMP_MS_OR_NULL,
  param: { description: 'the JSON the run was given, or null' },
  result: { description: 'its return value; null while running or on failure' },
  error_message: { type: ['string', 'null'] },
};

/** A record, whole (js-result_wait, subscriptions). */
export const WHOLE_RECORD: JsonSchema = component('JsResultRecord', {
  type: 'object',
  properties: RECORD_PROPERTIES,
  required: [...RECORD_FIELDS],
  additionalProperties: false,
});

/** A record of js-result_query or _page: whole, or with `fields`, exactly the fields asked for. */
export const RECORD: JsonSchema = component('JsResultRecordFields', { type: 'object', properties: RECORD_PROPERTIES, additionalProperties: false });

const FIELDS: JsonSchema = {
  description: 'absent or null: whole records; otherwise exactly these fields',
  oneOf: [{ type: 'null' }, { type: 'array', items: { enum: [...RECORD_FIELDS] }, minItems: 1, uniqueItems: true }],
};

const READ_PERMISSIONS =
  'Token holding `{"js_result": {"read": P}}` under a scope covering the worker. Named workers are checked (102 if any is refused); otherwise the call is narrowed to the workers the token may read.';

export const EXAMPLE_RECORD = {
  id: 1,
  js_worker_id: 10,
  js_worker_name: 'demo_worker',
  run_type: 'call',
  start_time: 1775000000000,
  finish_time: 1775000000123,
  param: { hello: 'world' },
  result: { ok: true },
  error_message: null,
};

export const JS_RESULT_QUERY_DOC: RpcMethodDoc = {
  summary: 'The records matching every condition, newest first (at most 1000 without limit/last)',
  auth: 'token',
  permissions: READ_PERMISSIONS,
  params: { token: TOKEN, query: QUERY, fields: FIELDS },
  required: ['token', 'query'],
  result: { name: 'records', schema: { type: 'array', items: RECORD } },
  errors: [RPC_ERRORS.responseTooLarge],
  examples: [
    {
      name: 'the newest result of a worker',
      params: { token: EXAMPLE_TOKEN, query: { condition: [{ js_worker_name: 'demo_worker' }, 'last'] } },
      result: [EXAMPLE_RECORD],
    },
    {
      name: 'ids and results only',
      params: { token: EXAMPLE_TOKEN, query: { condition: [{ js_worker_name: 'demo_worker' }, 'is_success', { limit: 10 }] }, fields: ['id', 'result'] },
      result: [{ id: 1, result: { ok: true } }],
    },
  ],
};

export const JS_RESULT_COUNT_DOC: RpcMethodDoc = {
  summary: 'How many records js-result_delete with the same params would delete (no default cap)',
  auth: 'token',
  permissions: READ_PERMISSIONS,
  params: { token: TOKEN, query: QUERY },
  required: ['token', 'query'],
  result: { name: 'count', schema: { type: 'object', properties: { count: { type: 'integer', minimum: 0 } }, required: ['count'], additionalProperties: false } },
  examples: [{ name: 'successes of a worker', params: { token: EXAMPLE_TOKEN, query: { condition: [{ js_worker_name: 'demo_worker' }, 'is_success'] } }, result: { count: 1 } }],
};

export const JS_RESULT_PAGE_DOC: RpcMethodDoc = {
  summary: 'Walks everything the conditions select, newest first, in pages (keyset; limit and last are refused)',
  description: `page_size 1-${MAX_PAGE_SIZE}, default ${DEFAULT_PAGE_SIZE}. next_cursor is opaque, signed, bound to the token and the conditions; null when nothing is left.`,
  auth: 'token',
  permissions: READ_PERMISSIONS,
  params: {
    token: TOKEN,
    query: QUERY,
    cursor: { type: ['string', 'null'], description: 'the next_cursor of the previous page; absent or null for the first' },
    page_size: { oneOf: [{ type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE }, { type: 'null' }] },
    fields: FIELDS,
  },
  required: ['token', 'query'],
  result: {
    name: 'page',
    schema: {
      type: 'object',
      properties: { items: { type: 'array', items: RECORD }, next_cursor: { type: ['string', 'null'] } },
      required: ['items', 'next_cursor'],
      additionalProperties: false,
    },
  },
  errors: [RPC_ERRORS.responseTooLarge],
  examples: [
    {
      name: 'the first page, and the last',
      params: { token: EXAMPLE_TOKEN, query: { condition: [{ js_worker_name: 'demo_worker' }] }, page_size: 100 },
      result: { items: [EXAMPLE_RECORD], next_cursor: null },
    },
  ],
};

/** What a delete by conditions answers, for js-result and crontab-result alike. */
export const DELETE_OUTCOME: JsonSchema = component('DeleteOutcome', {
  type: 'object',
  properties: { success: { const: true }, deleted: { type: 'integer', minimum: 0 }, condition_count: { type: 'integer', minimum: 0 } },
  required: ['success', 'deleted', 'condition_count'],
  additionalProperties: false,
});

export const JS_RESULT_DELETE_DOC: RpcMethodDoc = {
  summary: 'Deletes exactly what js-result_query with the same conditions selects (no 1000 cap without limit/last)',
  auth: 'token',
  permissions:
    'Token holding `{"js_result": {"delete": P}}` under a scope covering the worker. Named workers are checked (102 if any is refused); otherwise the call is narrowed to the workers the token may delete from.',
  params: { token: TOKEN, query: QUERY },
  required: ['token', 'query'],
  result: { name: 'outcome', schema: DELETE_OUTCOME },
  examples: [
    {
      name: 'the newest result of a worker',
      params: { token: EXAMPLE_TOKEN, query: { condition: [{ js_worker_name: 'demo_worker' }, 'last'] } },
      result: { success: true, deleted: 1, condition_count: 2 },
    },
  ],
};
