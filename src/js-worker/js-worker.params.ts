import { describeJson } from '../common/describe-json';
import { invalidParams } from '../common/domain.error';
import type { RpcParams } from '../json-rpc/rpc-method.registry';

/**
 * Params of the `js-worker_*` methods, parsed once into typed values. Only the
 * form is checked here (-32602, before the token is looked at); what a
 * well-formed value may be (name rules, base64, limit bounds, the script
 * itself) is the service's business (108), after the caller is known, so that
 * nobody without permission can make the server evaluate a script.
 */

export type RunType = 'call' | 'cron';

/** A limit as given: a number, `null` for "back to the default", or absent. */
export type LimitParam = number | bigint | null | undefined;

export interface LimitParams {
  maxRunTime: LimitParam;
  maxStackSize: LimitParam;
  maxHeapSize: LimitParam;
}

export interface CreateWorkerParams {
  token: string;
  name: string;
  description: string | null;
  scriptBase64: string;
  env: Record<string, unknown>;
  limits: LimitParams;
}

/** Absent fields are left as they are. */
export interface UpdateWorkerParams {
  token: string;
  name: string;
  description?: string | null;
  scriptBase64?: string;
  env?: Record<string, unknown>;
  limits: LimitParams;
}

export interface NamedWorkerParams {
  token: string;
  name: string;
}

export interface RunWorkerParams {
  token: string;
  name: string;
  runType: RunType;
  /** `undefined` when the call gave none: the handler then sees `undefined` and its default parameter applies. */
  params: unknown;
  /** Merged over the worker's stored env for this run only. */
  env?: Record<string, unknown>;
}

export interface RunConsoleParams {
  token: string;
  id: number | bigint;
}

export const CREATE_PARAM_NAMES = [
  'token',
  'name',
  'description',
  'js_script_base64',
  'env',
  'max_run_time',
  'max_stack_size',
  'max_heap_size',
] as const;
export const UPDATE_PARAM_NAMES = CREATE_PARAM_NAMES;
export const NAMED_PARAM_NAMES = ['token', 'name'] as const;
export const LIST_PARAM_NAMES = ['token'] as const;
export const RUN_PARAM_NAMES = ['token', 'js_script_name', 'run_type', 'params', 'env'] as const;
export const RUN_CONSOLE_PARAM_NAMES = ['token', 'id'] as const;

const UPDATABLE_FIELDS = CREATE_PARAM_NAMES.slice(2);
const RUN_TYPES: readonly RunType[] = ['call', 'cron'];
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function token(params: RpcParams): string {
  const value = params.token;
  if (typeof value !== 'string') {
    throw invalidParams(`token: expected a string "key:secret" or "username|password", got ${describeJson(value)}`);
  }
  return value;
}

function requiredString(params: RpcParams, key: string, what: string): string {
  const value = params[key];
  if (typeof value !== 'string') throw invalidParams(`${key}: expected ${what}, got ${describeJson(value)}`);
  return value;
}

function description(params: RpcParams): string | null | undefined {
  const value = params.description;
  if (value === undefined || value === null || typeof value === 'string') return value;
  throw invalidParams(`description: expected a string or null, got ${describeJson(value)}`);
}

function envObject(params: RpcParams, key: string): Record<string, unknown> | undefined {
  const value = params[key];
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) throw invalidParams(`${key}: expected a JSON object such as {"API_URL": "..."}, got ${describeJson(value)}`);
  return value;
}

function limit(params: RpcParams, key: string, unit: string): LimitParam {
  const value = params[key];
  if (value === undefined || value === null || typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  throw invalidParams(`${key}: expected an integer (${unit}) or null for the default, got ${describeJson(value)}`);
}

function limits(params: RpcParams): LimitParams {
  return {
    maxRunTime: limit(params, 'max_run_time', 'milliseconds'),
    maxStackSize: limit(params, 'max_stack_size', 'bytes'),
    maxHeapSize: limit(params, 'max_heap_size', 'bytes'),
  };
}

const NAME_FORM = 'a worker name (a string)';
const BASE64_FORM = 'the script as a base64 string';

export function parseCreateParams(params: RpcParams): CreateWorkerParams {
  const parsed = {
    name: requiredString(params, 'name', NAME_FORM),
    description: description(params) ?? null,
    scriptBase64: requiredString(params, 'js_script_base64', BASE64_FORM),
    env: envObject(params, 'env') ?? {},
    limits: limits(params),
  };
  return { token: token(params), ...parsed };
}

export function parseUpdateParams(params: RpcParams): UpdateWorkerParams {
  const name = requiredString(params, 'name', NAME_FORM);
  if (!UPDATABLE_FIELDS.some((field) => params[field] !== undefined)) {
    throw invalidParams(`expected at least one field to change: ${UPDATABLE_FIELDS.join(', ')}`);
  }
  const scriptBase64 = params.js_script_base64 === undefined ? undefined : requiredString(params, 'js_script_base64', BASE64_FORM);
  const parsed: Omit<UpdateWorkerParams, 'token'> = { name, scriptBase64, limits: limits(params) };
  const newDescription = description(params);
  if (newDescription !== undefined) parsed.description = newDescription;
  if (params.env !== undefined) {
    // null clears the env, as it is stored NOT NULL.
    parsed.env = envObject(params, 'env') ?? {};
  }
  if (parsed.scriptBase64 === undefined) delete parsed.scriptBase64;
  return { token: token(params), ...parsed };
}

export function parseNamedParams(params: RpcParams): NamedWorkerParams {
  const name = requiredString(params, 'name', NAME_FORM);
  return { token: token(params), name };
}

export function parseListParams(params: RpcParams): { token: string } {
  return { token: token(params) };
}

export function parseRunParams(params: RpcParams): RunWorkerParams {
  const name = requiredString(params, 'js_script_name', NAME_FORM);
  const runType = params.run_type ?? 'call';
  if (!RUN_TYPES.includes(runType as RunType)) {
    throw invalidParams(`run_type: expected "call" or "cron", got ${describeJson(runType)}`);
  }
  const env = envObject(params, 'env');
  const parsed: Omit<RunWorkerParams, 'token'> = { name, runType: runType as RunType, params: params.params };
  if (env !== undefined) parsed.env = env;
  return { token: token(params), ...parsed };
}

export function parseRunConsoleParams(params: RpcParams): RunConsoleParams {
  const id = params.id;
  const inRange =
    (typeof id === 'number' && Number.isSafeInteger(id)) || (typeof id === 'bigint' && id >= INT64_MIN && id <= INT64_MAX);
  if (!inRange) throw invalidParams(`id: expected the js_result id (a 64-bit signed integer), got ${describeJson(id)}`);
  return { token: token(params), id: id as number | bigint };
}
