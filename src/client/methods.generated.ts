/* eslint-disable */
/**
 * Generated from the OpenRPC document (rpc.discover) by `npm run docs`;
 * test/api-docs.e2e-spec.ts fails when it is stale. Do not edit by hand.
 * 64-bit integers are `number | bigint` (bigint past 2^53); `token` may be
 * left out of any call when the client was given one.
 */

/**
 * the credential: "key:secret" (token) or "username|password" (account)
 */
export type Credential = string
/**
 * one condition on firing records: a flag, or an object with exactly one key
 */
export type CrontabResultCondition = ({
/**
 * 64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)
 */
id: number | bigint
} | {
/**
 * 64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)
 */
cron_id: number | bigint
} | {
cron_name: string
} | {
/**
 * @minItems 2
 * @maxItems 2
 * 
 * Items: 64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)
 */
run_time_from_to: [number | bigint, number | bigint]
} | {
/**
 * 64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)
 */
run_time_from: number | bigint
} | {
/**
 * 64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)
 */
run_time_to: number | bigint
} | {
/**
 * 64-bit unsigned integer, a JSON number
 */
limit: number | bigint
} | ("is_success" | {
is_success: null
}) | ("is_failure" | {
is_failure: null
}) | ("last" | {
last: null
}))
/**
 * one condition: a flag, or an object with exactly one key
 */
export type Condition = ({
/**
 * 64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)
 */
id: number | bigint
} | {
/**
 * 64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)
 */
js_worker_id: number | bigint
} | {
js_worker_name: string
} | {
run_type: string
} | {
/**
 * @minItems 2
 * @maxItems 2
 * 
 * Items: 64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)
 */
start_time_from_to: [number | bigint, number | bigint]
} | {
/**
 * 64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)
 */
start_time_from: number | bigint
} | {
/**
 * 64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)
 */
start_time_to: number | bigint
} | {
/**
 * @minItems 2
 * @maxItems 2
 * 
 * Items: 64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)
 */
finish_time_from_to: [number | bigint, number | bigint]
} | {
/**
 * 64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)
 */
finish_time_from: number | bigint
} | {
/**
 * 64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)
 */
finish_time_to: number | bigint
} | {
/**
 * 64-bit unsigned integer, a JSON number
 */
limit: number | bigint
} | ("is_success" | {
is_success: null
}) | ("is_failure" | {
is_failure: null
}) | ("is_running" | {
is_running: null
}) | ("last" | {
last: null
}))
export type TokenLimits = {
/**
 * Items: "global", {"js_worker": "<name or prefix*>"}, or a kind kept and ignored
 */
scopes?: {
[k: string]: unknown
}[]
/**
 * Items: {"js_result": {"read": P}}, {"js_result": {"delete": P}}, {"js_worker": ...}, or a kind kept and ignored
 */
permissions?: {
[k: string]: unknown
}[]
}[]

export interface RpcMethods {
audit_query: {
params: {
token?: Credential
from?: (number | bigint | null)
to?: (number | bigint | null)
/**
 * only entries of this method, e.g. "token_delete"
 */
method?: (string | null)
/**
 * default 100
 */
limit?: (number | null)
}
result: {
entries: {
id: number
/**
 * ms since the epoch
 */
at: number
token_key: (string | null)
origin: string
method: string
params: {

}
affected: number
}[]
}
}
"crontab-result_delete": {
params: {
token?: Credential
query: CrontabResultQuery
}
result: DeleteOutcome
}
"crontab-result_query": {
params: {
token?: Credential
query: CrontabResultQuery
}
result: CrontabResult[]
}
crontab_create: {
params: {
token?: Credential
/**
 * unique; no /, \ or control characters
 */
name: string
/**
 * six fields, seconds first, optional year; names allowed; UTC
 */
cron_expression: string
cron_type: CronType
}
result: {
/**
 * 64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)
 */
id: number | bigint
}
}
crontab_delete: {
params: {
token?: Credential
name: string
}
result: {
success: true
}
}
crontab_edit: {
params: {
token?: Credential
/**
 * unique; no /, \ or control characters
 */
name: string
/**
 * six fields, seconds first, optional year; names allowed; UTC
 */
cron_expression: string
cron_type: CronType
}
result: {
/**
 * 64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)
 */
id: number | bigint
success: true
}
}
crontab_get: {
params: {
token?: Credential
}
result: Crontab[]
}
crontab_set_enable: {
params: {
token?: Credential
name: string
enable: boolean
}
result: {
success: true
enabled: boolean
}
}
"js-result_count": {
params: {
token?: Credential
query: Query
}
result: {
count: number
}
}
"js-result_delete": {
params: {
token?: Credential
query: Query
}
result: DeleteOutcome
}
"js-result_page": {
params: {
token?: Credential
query: Query
/**
 * the next_cursor of the previous page; absent or null for the first
 */
cursor?: (string | null)
page_size?: (number | null)
/**
 * absent or null: whole records; otherwise exactly these fields
 */
fields?: (null | [("id" | "js_worker_id" | "js_worker_name" | "run_type" | "start_time" | "finish_time" | "param" | "result" | "error_message"), ...(("id" | "js_worker_id" | "js_worker_name" | "run_type" | "start_time" | "finish_time" | "param" | "result" | "error_message"))[]])
}
result: {
items: JsResultRecordFields[]
next_cursor: (string | null)
}
}
"js-result_query": {
params: {
token?: Credential
query: Query
/**
 * absent or null: whole records; otherwise exactly these fields
 */
fields?: (null | [("id" | "js_worker_id" | "js_worker_name" | "run_type" | "start_time" | "finish_time" | "param" | "result" | "error_message"), ...(("id" | "js_worker_id" | "js_worker_name" | "run_type" | "start_time" | "finish_time" | "param" | "result" | "error_message"))[]])
}
result: JsResultRecordFields[]
}
"js-result_retention_delete": {
params: {
token?: Credential
/**
 * 64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)
 */
id: number | bigint
}
result: {
success: true
}
}
"js-result_retention_list": {
params: {
token?: Credential
}
result: {
policies: RetentionPolicy[]
}
}
"js-result_retention_set": {
params: {
token?: Credential
/**
 * a worker name, or a prefix ending in *
 */
js_worker: string
keep_days?: (number | null)
keep_last?: (number | null)
/**
 * default any
 */
outcome?: (("any" | "success" | "failure") | null)
}
result: RetentionPolicy
}
"js-result_subscribe": {
params: {
token?: Credential
query: Query
}
result: string
}
"js-result_unsubscribe": {
params: {
subscription: string
}
result: true
}
"js-result_wait": {
params: {
token?: Credential
/**
 * 64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)
 */
id: number | bigint
/**
 * default 30000
 */
timeout_ms?: (number | null)
}
result: JsResultRecord
}
"js-worker_create": {
params: {
token?: Credential
/**
 * the worker name
 */
name: string
description?: (string | null)
/**
 * the module, base64: export default { onCall(params, env, ctx) {...}, onCron, onInlineCall, onRoute }
 */
js_script_base64: string
/**
 * JSON object handed to every run
 */
env?: ({

} | null)
/**
 * milliseconds; null or absent: the default
 */
max_run_time?: (number | null)
/**
 * bytes; null or absent: the default
 */
max_stack_size?: (number | null)
/**
 * bytes; null or absent: the default
 */
max_heap_size?: (number | null)
route_name?: (string | null)
runtime_clean_time?: (number | null)
}
result: JsWorkerSummary
}
"js-worker_delete": {
params: {
token?: Credential
/**
 * the worker name
 */
name: string
}
result: {
success: true
}
}
"js-worker_list_all_js_worker": {
params: {
token?: Credential
}
result: string[]
}
"js-worker_read": {
params: {
token?: Credential
/**
 * the worker name
 */
name: string
}
result: JsWorker
}
"js-worker_run": {
params: {
token?: Credential
/**
 * the worker name
 */
js_script_name: string
/**
 * default call (onCall); route: onRoute with a simulated HTTP request
 */
run_type?: (("call" | "cron" | "route") | null)
/**
 * any JSON, handed to the handler; for run_type route the request: {url, method?, headers?: [{name, value}], body_base64?} (or body_bytes), and the result stored is {status, headers: [{name, value}], body_base64}
 */
params?: {
[k: string]: unknown
}
/**
 * merged over the worker's env for this run
 */
env?: ({

} | null)
}
result: {
/**
 * 64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)
 */
id: number | bigint
}
}
"js-worker_run_console": {
params: {
token?: Credential
/**
 * 64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)
 */
id: number | bigint
}
result: {
/**
 * 64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)
 */
id: number | bigint
js_worker_name: string
finished: boolean
lines: string[]
}
}
"js-worker_update": {
params: {
token?: Credential
/**
 * the worker name
 */
name: string
description?: (string | null)
/**
 * the module, base64: export default { onCall(params, env, ctx) {...}, onCron, onInlineCall, onRoute }
 */
js_script_base64?: string
/**
 * JSON object handed to every run
 */
env?: ({

} | null)
/**
 * milliseconds; null or absent: the default
 */
max_run_time?: (number | null)
/**
 * bytes; null or absent: the default
 */
max_stack_size?: (number | null)
/**
 * bytes; null or absent: the default
 */
max_heap_size?: (number | null)
route_name?: (string | null)
runtime_clean_time?: (number | null)
}
result: {
id: number
name: string
description: (string | null)
route_name: (string | null)
runtime_clean_time: (number | null)
max_run_time: number
max_stack_size: number
max_heap_size: number
/**
 * ms since the epoch
 */
create_at: number
/**
 * ms since the epoch
 */
update_at: number
js_script_base64: string
env: {

}
success: true
}
}
"nodeget-server_hello": {
params: {

}
result: "NodeGet Server Is Running!"
}
"nodeget-server_list_all_agent_uuid": {
params: {
token?: Credential
}
result: {
uuids: string[]
}
}
"nodeget-server_uuid": {
params: {

}
result: string
}
"nodeget-server_version": {
params: {

}
result: {
binary_type: string
cargo_version: string
git_branch: string
git_commit_sha: string
git_commit_date: string
git_commit_message: string
build_time: string
cargo_target_triple: string
rustc_channel: string
rustc_version: string
rustc_commit_date: string
rustc_commit_hash: string
rustc_llvm_version: string
service_name: string
service_version: string
}
}
"rpc.discover": {
params: {

}
result: {
openrpc: string
methods: unknown[]
}
}
token_change_password: {
params: {
token?: Credential
/**
 * a token key, a username, or a full credential
 */
target_token: string
new_password: string
}
result: {
success: true
message: string
}
}
token_create: {
params: {
father_token: Credential
token_creation: {
token_limit: TokenLimits
username?: (string | null)
password?: (string | null)
timestamp_from?: (number | bigint | null)
timestamp_to?: (number | bigint | null)
/**
 * ignored (always 1)
 */
version?: {
[k: string]: unknown
}
}
}
result: {
key: string
secret: string
}
}
token_delete: {
params: {
token?: Credential
/**
 * a token key, a username, or a full credential
 */
target_token: string
}
result: {
message: string
rows_affected: number
matched_by: ("token_key" | "username")
}
}
token_edit: {
params: {
token?: Credential
/**
 * a token key, a username, or a full credential
 */
target_token: string
limit: TokenLimits
}
result: {
success: true
id: number
token_key: string
}
}
token_get: {
params: {
token?: Credential
/**
 * the super token, to read another token named by token
 */
supertoken?: (string | null)
}
result: Token
}
token_list_all_tokens: {
params: {
token?: Credential
}
result: {
tokens: Token[]
}
}
token_roll_token_secret: {
params: {
token?: Credential
/**
 * a token key, a username, or a full credential
 */
target_token: string
}
result: {
key: string
secret: string
}
}
}
/**
 * every condition must hold (AND)
 */
export interface CrontabResultQuery {
condition: CrontabResultCondition[]
}
export interface DeleteOutcome {
success: true
deleted: number
condition_count: number
}
export interface CrontabResult {
/**
 * 64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)
 */
id: number | bigint
/**
 * 64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)
 */
cron_id: number | bigint
cron_name: string
run_time: (number | bigint | null)
/**
 * the js_result row of the run, or null when none started
 */
relative_id: (number | bigint | null)
success: (boolean | null)
message: (string | null)
}
/**
 * what the job runs: a stored worker with params ({"server": {"js_worker": [worker_name, params]}}); NodeGet agent jobs are refused
 */
export interface CronType {
server: {
/**
 * @minItems 2
 */
js_worker: [string, unknown]
}
}
export interface Crontab {
/**
 * 64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)
 */
id: number | bigint
name: string
enable: boolean
cron_expression: string
cron_type: unknown
last_run_time: (number | bigint | null)
}
/**
 * every condition must hold (AND); an empty list selects every record the token may see
 */
export interface Query {
condition: Condition[]
}
export interface JsResultRecordFields {
/**
 * 64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)
 */
id?: number | bigint
/**
 * 64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)
 */
js_worker_id?: number | bigint
js_worker_name?: string
/**
 * call, inline_call, cron, route, ... (free text)
 */
run_type?: string
start_time?: (number | bigint | null)
finish_time?: (number | bigint | null)
/**
 * the JSON the run was given, or null
 */
param?: {
[k: string]: unknown
}
/**
 * its return value; null while running or on failure
 */
result?: {
[k: string]: unknown
}
error_message?: (string | null)
}
export interface RetentionPolicy {
id: number
js_worker: string
keep_days: (number | null)
keep_last: (number | null)
outcome: ("any" | "success" | "failure")
}
export interface JsResultRecord {
/**
 * 64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)
 */
id: number | bigint
/**
 * 64-bit signed integer, a JSON number (exact; beyond 2^53 use a lossless JSON parser)
 */
js_worker_id: number | bigint
js_worker_name: string
/**
 * call, inline_call, cron, route, ... (free text)
 */
run_type: string
start_time: (number | bigint | null)
finish_time: (number | bigint | null)
/**
 * the JSON the run was given, or null
 */
param: {
[k: string]: unknown
}
/**
 * its return value; null while running or on failure
 */
result: {
[k: string]: unknown
}
error_message: (string | null)
}
export interface JsWorkerSummary {
id: number
name: string
description: (string | null)
route_name: (string | null)
runtime_clean_time: (number | null)
max_run_time: number
max_stack_size: number
max_heap_size: number
/**
 * ms since the epoch
 */
create_at: number
/**
 * ms since the epoch
 */
update_at: number
}
export interface JsWorker {
id: number
name: string
description: (string | null)
route_name: (string | null)
runtime_clean_time: (number | null)
max_run_time: number
max_stack_size: number
max_heap_size: number
/**
 * ms since the epoch
 */
create_at: number
/**
 * ms since the epoch
 */
update_at: number
js_script_base64: string
env: {

}
}
export interface Token {
version: 1
token_key: string
timestamp_from: (number | bigint | null)
timestamp_to: (number | bigint | null)
token_limit: TokenLimits
username: (string | null)
}

/** Each method's params in positional order, as the server declares them. */
export const METHOD_PARAMS = {
  "audit_query": ["token", "from", "to", "method", "limit"],
  "crontab-result_delete": ["token", "query"],
  "crontab-result_query": ["token", "query"],
  "crontab_create": ["token", "name", "cron_expression", "cron_type"],
  "crontab_delete": ["token", "name"],
  "crontab_edit": ["token", "name", "cron_expression", "cron_type"],
  "crontab_get": ["token"],
  "crontab_set_enable": ["token", "name", "enable"],
  "js-result_count": ["token", "query"],
  "js-result_delete": ["token", "query"],
  "js-result_page": ["token", "query", "cursor", "page_size", "fields"],
  "js-result_query": ["token", "query", "fields"],
  "js-result_retention_delete": ["token", "id"],
  "js-result_retention_list": ["token"],
  "js-result_retention_set": ["token", "js_worker", "keep_days", "keep_last", "outcome"],
  "js-result_subscribe": ["token", "query"],
  "js-result_unsubscribe": ["subscription"],
  "js-result_wait": ["token", "id", "timeout_ms"],
  "js-worker_create": ["token", "name", "description", "js_script_base64", "env", "max_run_time", "max_stack_size", "max_heap_size", "route_name", "runtime_clean_time"],
  "js-worker_delete": ["token", "name"],
  "js-worker_list_all_js_worker": ["token"],
  "js-worker_read": ["token", "name"],
  "js-worker_run": ["token", "js_script_name", "run_type", "params", "env"],
  "js-worker_run_console": ["token", "id"],
  "js-worker_update": ["token", "name", "description", "js_script_base64", "env", "max_run_time", "max_stack_size", "max_heap_size", "route_name", "runtime_clean_time"],
  "nodeget-server_hello": [],
  "nodeget-server_list_all_agent_uuid": ["token"],
  "nodeget-server_uuid": [],
  "nodeget-server_version": [],
  "rpc.discover": [],
  "token_change_password": ["token", "target_token", "new_password"],
  "token_create": ["father_token", "token_creation"],
  "token_delete": ["token", "target_token"],
  "token_edit": ["token", "target_token", "limit"],
  "token_get": ["token", "supertoken"],
  "token_list_all_tokens": ["token"],
  "token_roll_token_secret": ["token", "target_token"],
} as const;
