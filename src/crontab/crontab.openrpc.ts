import { DELETE_OUTCOME, flag, RANGE, valued } from '../js-result/js-result.openrpc';
import { component, EXAMPLE_TOKEN, INT64, RPC_ERRORS, TIMESTAMP_MS_OR_NULL, TOKEN, UINT64 } from '../json-rpc/openrpc.schemas';
import type { JsonSchema, RpcErrorDoc, RpcMethodDoc } from '../json-rpc/openrpc.types';

/** The crontab and crontab-result methods as the OpenRPC document describes them (CRONTAB.md). */

const CRON_TYPE: JsonSchema = component('CronType', {
  description: 'what the job runs: a stored worker with params ({"server": {"js_worker": [worker_name, params]}}); NodeGet agent jobs are refused',
  type: 'object',
  properties: {
    server: {
      type: 'object',
      properties: { js_worker: { type: 'array', items: [{ type: 'string' }, {}], additionalItems: false, minItems: 2 } },
      required: ['js_worker'],
      additionalProperties: false,
    },
  },
  required: ['server'],
  additionalProperties: false,
});

const JOB: JsonSchema = component('Crontab', {
  type: 'object',
  properties: {
    id: INT64,
    name: { type: 'string' },
    enable: { type: 'boolean' },
    cron_expression: { type: 'string' },
    cron_type: {},
    last_run_time: TIMESTAMP_MS_OR_NULL,
  },
  required: ['id', 'name', 'enable', 'cron_expression', 'cron_type', 'last_run_time'],
  additionalProperties: false,
});

const FIRING: JsonSchema = component('CrontabResult', {
  type: 'object',
  properties: {
    id: INT64,
    cron_id: INT64,
    cron_name: { type: 'string' },
    run_time: TIMESTAMP_MS_OR_NULL,
    relative_id: { oneOf: [INT64, { type: 'null' }], description: 'the js_result row of the run, or null when none started' },
    success: { type: ['boolean', 'null'] },
    message: { type: ['string', 'null'] },
  },
  required: ['id', 'cron_id', 'cron_name', 'run_time', 'relative_id', 'success', 'message'],
  additionalProperties: false,
});

const FIRING_CONDITION: JsonSchema = component('CrontabResultCondition', {
  description: 'one condition on firing records: a flag, or an object with exactly one key',
  oneOf: [
    valued('id', INT64, 'id = N'),
    valued('cron_id', INT64, 'cron_id = N'),
    valued('cron_name', { type: 'string' }, 'cron_name = S (exact; also drives the permission check)'),
    valued('run_time_from_to', RANGE, 'A <= run_time <= B'),
    valued('run_time_from', INT64, 'run_time >= A'),
    valued('run_time_to', INT64, 'run_time <= B'),
    valued('limit', UINT64, 'keep only the newest N records (above 10000: 10000)'),
    flag('is_success', 'the run started'),
    flag('is_failure', 'the firing failed'),
    flag('last', 'keep only the newest record'),
  ],
});

const FIRING_QUERY: JsonSchema = component('CrontabResultQuery', {
  type: 'object',
  description: 'every condition must hold (AND)',
  properties: { condition: { type: 'array', items: FIRING_CONDITION } },
  required: ['condition'],
});

const NAME: JsonSchema = { type: 'string', minLength: 1, maxLength: 128, description: 'unique; no /, \\ or control characters' };
const EXPRESSION: JsonSchema = { type: 'string', description: 'six fields, seconds first, optional year; names allowed; UTC' };
const SUCCESS: JsonSchema = { type: 'object', properties: { success: { const: true } }, required: ['success'], additionalProperties: false };
const BAD_EXPRESSION: RpcErrorDoc = { code: 101, message: 'Parse error: Invalid cron expression: why the expression was refused' };
const EXAMPLE_TYPE = { server: { js_worker: ['demo_worker', { hello: 'from_cron' }] } };
const EXAMPLE_JOB = { name: 'nightly_report', cron_expression: '0 0 3 * * *', cron_type: EXAMPLE_TYPE };
const WRITE_PERMISSIONS =
  'Token holding `{"crontab": "write"}` under a scope covering the job, and `run_defined_js_worker` on the worker (the super token passes).';

export const CRONTAB_CREATE_DOC: RpcMethodDoc = {
  summary: 'Creates a job that runs a stored worker on a cron schedule (fires first at its next due time)',
  auth: 'token',
  permissions: WRITE_PERMISSIONS,
  params: { token: TOKEN, name: NAME, cron_expression: EXPRESSION, cron_type: CRON_TYPE },
  required: ['token', 'name', 'cron_expression', 'cron_type'],
  result: { name: 'created', schema: { type: 'object', properties: { id: INT64 }, required: ['id'], additionalProperties: false } },
  errors: [BAD_EXPRESSION, { code: 108, message: 'Invalid input: a taken or malformed name, an agent job, or CRONTAB_MAX_JOBS reached' }],
  examples: [{ name: 'every night at 03:00 UTC', params: { token: EXAMPLE_TOKEN, ...EXAMPLE_JOB }, result: { id: 1 } }],
};

export const CRONTAB_EDIT_DOC: RpcMethodDoc = {
  summary: "Replaces a job's expression and what it runs (due times from now on)",
  auth: 'token',
  permissions: WRITE_PERMISSIONS,
  params: CRONTAB_CREATE_DOC.params,
  required: CRONTAB_CREATE_DOC.required,
  result: {
    name: 'edited',
    schema: { type: 'object', properties: { id: INT64, success: { const: true } }, required: ['id', 'success'], additionalProperties: false },
  },
  errors: [BAD_EXPRESSION, RPC_ERRORS.notFound],
  examples: [{ name: 'at 04:00 instead', params: { token: EXAMPLE_TOKEN, ...EXAMPLE_JOB, cron_expression: '0 0 4 * * *' }, result: { id: 1, success: true } }],
};

export const CRONTAB_GET_DOC: RpcMethodDoc = {
  summary: 'The jobs the token may read, by id',
  auth: 'token',
  permissions: 'Token holding `{"crontab": "read"}`; without it the list is empty.',
  params: { token: TOKEN },
  required: ['token'],
  result: { name: 'jobs', schema: { type: 'array', items: JOB } },
  examples: [{ name: 'every job', params: { token: EXAMPLE_TOKEN }, result: [{ id: 1, ...EXAMPLE_JOB, cron_expression: '0 0 4 * * *', enable: true, last_run_time: null }] }],
};

export const CRONTAB_DELETE_DOC: RpcMethodDoc = {
  summary: 'Deletes a job (its firing records stay)',
  auth: 'token',
  permissions: 'Token holding `{"crontab": "delete"}` under a scope covering the job.',
  params: { token: TOKEN, name: { type: 'string' } },
  required: ['token', 'name'],
  result: { name: 'deleted', schema: SUCCESS },
  errors: [RPC_ERRORS.notFound],
  examples: [{ name: 'by name', params: { token: EXAMPLE_TOKEN, name: 'nightly_report' }, result: { success: true } }],
};

export const CRONTAB_SET_ENABLE_DOC: RpcMethodDoc = {
  summary: 'Enables or disables a job; re-enabling does not replay the due times it missed',
  auth: 'token',
  permissions: 'Token holding `{"crontab": "write"}` under a scope covering the job.',
  params: { token: TOKEN, name: { type: 'string' }, enable: { type: 'boolean' } },
  required: ['token', 'name', 'enable'],
  result: {
    name: 'state',
    schema: { type: 'object', properties: { success: { const: true }, enabled: { type: 'boolean' } }, required: ['success', 'enabled'], additionalProperties: false },
  },
  errors: [RPC_ERRORS.notFound],
  examples: [{ name: 'pause', params: { token: EXAMPLE_TOKEN, name: 'nightly_report', enable: false }, result: { success: true, enabled: false } }],
};

export const CRONTAB_RESULT_QUERY_DOC: RpcMethodDoc = {
  summary: 'Firing records matching every condition, newest first (at most 1000 without limit/last)',
  auth: 'token',
  permissions: 'Token holding `{"crontab_result": {"read": P}}` with P covering the job names.',
  params: { token: TOKEN, query: FIRING_QUERY },
  required: ['token', 'query'],
  result: { name: 'records', schema: { type: 'array', items: FIRING } },
  examples: [{ name: "a job's latest firing", params: { token: EXAMPLE_TOKEN, query: { condition: [{ cron_name: 'nightly_report' }, 'last'] } }, result: [] }],
};

export const CRONTAB_RESULT_DELETE_DOC: RpcMethodDoc = {
  summary: 'Deletes exactly the firing records crontab-result_query with the same conditions selects (no 1000 cap)',
  auth: 'token',
  permissions: 'Token holding `{"crontab_result": {"delete": P}}` with P covering the job names.',
  params: { token: TOKEN, query: FIRING_QUERY },
  required: ['token', 'query'],
  result: { name: 'outcome', schema: DELETE_OUTCOME },
  examples: [
    { name: "a job's records", params: { token: EXAMPLE_TOKEN, query: { condition: [{ cron_name: 'nightly_report' }] } }, result: { success: true, deleted: 0, condition_count: 1 } },
  ],
};
