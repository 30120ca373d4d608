import { component, EXAMPLE_TOKEN, INT64, RPC_ERRORS, TOKEN } from '../json-rpc/openrpc.schemas';
import type { JsonSchema, RpcMethodDoc } from '../json-rpc/openrpc.types';

/** NodeGet's `js-worker_*` methods as the OpenRPC document describes them. */

const permission = (action: string) =>
  `Token holding \`{"js_worker": {"${action}": P}}\` (NodeGet's JsWorker permissions) under a scope covering the worker.`;

const NAME: JsonSchema = { type: 'string', description: 'the worker name' };
const NULLABLE_MS: JsonSchema = { oneOf: [{ type: 'integer' }, { type: 'null' }] };
const LIMIT = (unit: string): JsonSchema => ({ oneOf: [{ type: 'integer' }, { type: 'null' }], description: `${unit}; null or absent: the default` });

const WORKER_PARAMS: Readonly<Record<string, JsonSchema>> = {
  token: TOKEN,
  name: NAME,
  description: { type: ['string', 'null'] },
  js_script_base64: { type: 'string', contentEncoding: 'base64', description: 'the module, base64: export default { onCall(params, env, ctx) {...}, onCron, onInlineCall, onRoute }' },
  env: { oneOf: [{ type: 'object' }, { type: 'null' }], description: 'JSON object handed to every run' },
  max_run_time: LIMIT('milliseconds'),
  max_stack_size: LIMIT('bytes'),
  max_heap_size: LIMIT('bytes'),
  route_name: { type: ['string', 'null'] },
  runtime_clean_time: NULLABLE_MS,
};

const SUMMARY_PROPERTIES = {
  id: { type: 'integer' },
  name: { type: 'string' },
  description: { type: ['string', 'null'] },
  route_name: { type: ['string', 'null'] },
  runtime_clean_time: NULLABLE_MS,
  max_run_time: { type: 'integer' },
  max_stack_size: { type: 'integer' },
  max_heap_size: { type: 'integer' },
  create_at: { type: 'integer', description: 'ms since the epoch' },
  update_at: { type: 'integer', description: 'ms since the epoch' },
};

const SUMMARY: JsonSchema = component('JsWorkerSummary', { type: 'object', properties: SUMMARY_PROPERTIES, required: Object.keys(SUMMARY_PROPERTIES) });
const RECORD_PROPERTIES = { ...SUMMARY_PROPERTIES, js_script_base64: { type: 'string' }, env: { type: 'object' } };
const RECORD: JsonSchema = component('JsWorker', { type: 'object', properties: RECORD_PROPERTIES, required: Object.keys(RECORD_PROPERTIES) });

/** `export default { onCall(params) { return { hello: params.name }; } }` */
const EXAMPLE_SCRIPT = Buffer.from('export default {\n  onCall(params) {\n    return { hello: params.name };\n  },\n};\n').toString('base64');
const EXAMPLE_SUMMARY = {
  id: 1,
  name: 'demo_worker',
  description: 'says hello',
  route_name: null,
  runtime_clean_time: null,
  max_run_time: 30000,
  max_stack_size: 1048576,
  max_heap_size: 67108864,
  create_at: 1775000000000,
  update_at: 1775000000000,
};
const WORKER_ERRORS = [RPC_ERRORS.notAcceptable, { code: 105, message: 'Not found in database: js_worker not found: <name>' }];

export const JS_WORKER_CREATE_DOC: RpcMethodDoc = {
  summary: 'Creates a worker; its script is checked (its top level run in the sandbox) first',
  auth: 'token',
  permissions: permission('create'),
  params: WORKER_PARAMS,
  required: ['token', 'name', 'js_script_base64'],
  result: { name: 'worker', schema: SUMMARY },
  errors: [{ code: 108, message: "Invalid input: the script does not compile or run its top level, or js_worker '<name>' already exists" }],
  examples: [
    { name: 'a worker that says hello', params: { token: EXAMPLE_TOKEN, name: 'demo_worker', description: 'says hello', js_script_base64: EXAMPLE_SCRIPT }, result: EXAMPLE_SUMMARY },
  ],
};

export const JS_WORKER_READ_DOC: RpcMethodDoc = {
  summary: 'A worker with its script and env',
  auth: 'token',
  permissions: permission('read'),
  params: { token: TOKEN, name: NAME },
  required: ['token', 'name'],
  result: { name: 'worker', schema: RECORD },
  errors: WORKER_ERRORS,
  examples: [{ name: 'by name', params: { token: EXAMPLE_TOKEN, name: 'demo_worker' }, result: { ...EXAMPLE_SUMMARY, js_script_base64: EXAMPLE_SCRIPT, env: {} } }],
};

export const JS_WORKER_UPDATE_DOC: RpcMethodDoc = {
  summary: 'Changes what is given of a worker (at least one field); absent fields stay, null clears',
  auth: 'token',
  permissions: permission('write'),
  params: WORKER_PARAMS,
  required: ['token', 'name'],
  result: { name: 'worker', schema: { type: 'object', properties: { ...RECORD_PROPERTIES, success: { const: true } }, required: [...Object.keys(RECORD_PROPERTIES), 'success'] } },
  errors: WORKER_ERRORS,
  examples: [
    {
      name: 'a new description',
      params: { token: EXAMPLE_TOKEN, name: 'demo_worker', description: 'says hello, politely' },
      result: { ...EXAMPLE_SUMMARY, description: 'says hello, politely', js_script_base64: EXAMPLE_SCRIPT, env: {}, success: true },
    },
  ],
};

export const JS_WORKER_DELETE_DOC: RpcMethodDoc = {
  summary: 'Deletes a worker (its results stay)',
  auth: 'token',
  permissions: permission('delete'),
  params: { token: TOKEN, name: NAME },
  required: ['token', 'name'],
  result: { name: 'deleted', schema: { type: 'object', properties: { success: { const: true } }, required: ['success'] } },
  errors: WORKER_ERRORS,
  examples: [{ name: 'by name', params: { token: EXAMPLE_TOKEN, name: 'demo_worker' }, result: { success: true } }],
};

export const JS_WORKER_LIST_DOC: RpcMethodDoc = {
  summary: 'The names of the workers the token may list',
  auth: 'token',
  permissions: permission('list_all_js_worker'),
  params: { token: TOKEN },
  required: ['token'],
  result: { name: 'names', schema: { type: 'array', items: { type: 'string' } } },
  examples: [{ name: 'every worker', params: { token: EXAMPLE_TOKEN }, result: ['demo_worker'] }],
};

export const JS_WORKER_RUN_DOC: RpcMethodDoc = {
  summary: 'Starts a run of a worker; returns the id of its js_result record at once (wait for it with js-result_wait)',
  auth: 'token',
  permissions: permission('run_defined_js_worker'),
  params: {
    token: TOKEN,
    js_script_name: NAME,
    run_type: { oneOf: [{ enum: ['call', 'cron', 'route'] }, { type: 'null' }], description: 'default call (onCall); route: onRoute with a simulated HTTP request' },
    params: {
      description:
        'any JSON, handed to the handler; for run_type route the request: {url, method?, headers?: [{name, value}], body_base64?} (or body_bytes), and the result stored is {status, headers: [{name, value}], body_base64}',
    },
    env: { oneOf: [{ type: 'object' }, { type: 'null' }], description: "merged over the worker's env for this run" },
  },
  required: ['token', 'js_script_name'],
  result: { name: 'run', schema: { type: 'object', properties: { id: INT64 }, required: ['id'] } },
  errors: [...WORKER_ERRORS, { code: 108, message: 'Invalid input: the run queue is full; try again later' }],
  examples: [{ name: 'call it', params: { token: EXAMPLE_TOKEN, js_script_name: 'demo_worker', params: { name: 'world' } }, result: { id: 3 } }],
};

export const JS_WORKER_RUN_CONSOLE_DOC: RpcMethodDoc = {
  summary: 'The console lines of a run (kept when it ends)',
  auth: 'token',
  permissions: 'Token holding `{"js_result": {"read": P}}` for the worker of the run.',
  params: { token: TOKEN, id: INT64 },
  required: ['token', 'id'],
  result: {
    name: 'console',
    schema: {
      type: 'object',
      properties: { id: INT64, js_worker_name: { type: 'string' }, finished: { type: 'boolean' }, lines: { type: 'array', items: { type: 'string' } } },
      required: ['id', 'js_worker_name', 'finished', 'lines'],
    },
  },
  errors: [{ code: 108, message: 'Invalid input: js_result <id> not found' }],
  examples: [{ name: 'a run', params: { token: EXAMPLE_TOKEN, id: 3 }, result: { id: 3, js_worker_name: 'demo_worker', finished: true, lines: [] } }],
};
