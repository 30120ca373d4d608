import { DomainError, DomainErrorCode } from '../common/domain.error';
import { describeJson } from '../common/describe-json';
import { ANY_WORKER, parseWorkerPattern, type WorkerPattern } from './worker-pattern';

export type JsResultAction = 'read' | 'delete';

/** The unit permissions of the `js_worker` kind, as NodeGet spells them: `{"js_worker": "create"}`. */
export type JsWorkerAction = 'create' | 'read' | 'write' | 'delete' | 'run_defined_js_worker' | 'list_all_js_worker';

export const JS_WORKER_ACTIONS: readonly JsWorkerAction[] = [
  'create',
  'read',
  'write',
  'delete',
  'run_defined_js_worker',
  'list_all_js_worker',
];

/**
 * One entry of a token's `token_limit`, reduced to what this service checks.
 * A requirement is met only when a single limit has both a covering scope and
 * a covering permission; scopes and permissions never combine across limits.
 */
export interface TokenLimit {
  /** Workers this limit's scopes cover; `global` is the empty prefix. */
  workerScopes: WorkerPattern[];
  jsResult: Record<JsResultAction, WorkerPattern[]>;
  /** `js_worker` unit permissions; they apply to the workers this limit's scopes cover. */
  jsWorker: ReadonlySet<JsWorkerAction>;
  /** Whether `global` is among the scopes: crontab permissions count only under it. */
  global?: boolean;
  /** `{"crontab": "read" | "write" | "delete"}`. */
  crontab?: ReadonlySet<CrontabAction>;
  /** `{"crontab_result": {"read" | "delete": "<job name pattern>"}}`. */
  crontabResult?: Record<JsResultAction, WorkerPattern[]>;
}

/** The unit permissions of the `crontab` kind. */
export type CrontabAction = 'read' | 'write' | 'delete';
const CRONTAB_ACTIONS: readonly CrontabAction[] = ['read', 'write', 'delete'];

const JS_RESULT_ACTIONS: readonly JsResultAction[] = ['read', 'delete'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The single key of a one-key object, as NodeGet serialises enum variants. */
function variantOf(value: unknown): [string, unknown] | undefined {
  if (!isRecord(value)) return undefined;
  const keys = Object.keys(value);
  return keys.length === 1 ? [keys[0], value[keys[0]]] : undefined;
}

function scopePattern(scope: unknown): WorkerPattern | undefined {
  if (scope === 'global') return ANY_WORKER;
  const variant = variantOf(scope);
  if (variant?.[0] === 'js_worker' && typeof variant[1] === 'string') return parseWorkerPattern(variant[1]);
  return undefined;
}

function jsResultPermission(permission: unknown, kind = 'js_result'): [JsResultAction, WorkerPattern] | undefined {
  const variant = variantOf(permission);
  if (variant?.[0] !== kind) return undefined;
  const inner = variantOf(variant[1]);
  if (!inner || !JS_RESULT_ACTIONS.includes(inner[0] as JsResultAction) || typeof inner[1] !== 'string') return undefined;
  return [inner[0] as JsResultAction, parseWorkerPattern(inner[1])];
}

/** A `{"js_worker": "<action>"}` permission; unknown actions (NodeGet's run_raw_js_worker, …) grant nothing here. */
function jsWorkerPermission(permission: unknown): JsWorkerAction | undefined {
  const variant = variantOf(permission);
  if (variant?.[0] !== 'js_worker' || typeof variant[1] !== 'string') return undefined;
  return JS_WORKER_ACTIONS.includes(variant[1] as JsWorkerAction) ? (variant[1] as JsWorkerAction) : undefined;
}

function crontabPermission(permission: unknown): CrontabAction | undefined {
  const variant = variantOf(permission);
  if (variant?.[0] !== 'crontab' || typeof variant[1] !== 'string') return undefined;
  return CRONTAB_ACTIONS.includes(variant[1] as CrontabAction) ? (variant[1] as CrontabAction) : undefined;
}

/**
 * Reads stored limits. Kinds this service does not know are skipped, and so is
 * a malformed entry of a known kind (written by another tool): it grants nothing.
 */
export function readTokenLimits(raw: unknown): TokenLimit[] {
  if (!Array.isArray(raw)) return [];
  return raw.filter(isRecord).map((limit) => {
    const scopes = Array.isArray(limit.scopes) ? limit.scopes : [];
    const permissions = Array.isArray(limit.permissions) ? limit.permissions : [];
    const jsResult: Record<JsResultAction, WorkerPattern[]> = { read: [], delete: [] };
    const jsWorker = new Set<JsWorkerAction>();
    const crontab = new Set<CrontabAction>();
    const crontabResult: Record<JsResultAction, WorkerPattern[]> = { read: [], delete: [] };
    for (const permission of permissions) {
      const parsed = jsResultPermission(permission);
      if (parsed) jsResult[parsed[0]].push(parsed[1]);
      const action = jsWorkerPermission(permission);
      if (action) jsWorker.add(action);
      const cron = crontabPermission(permission);
      if (cron) crontab.add(cron);
      const cronResult = jsResultPermission(permission, 'crontab_result');
      if (cronResult) crontabResult[cronResult[0]].push(cronResult[1]);
    }
    return {
      workerScopes: scopes.map(scopePattern).filter((p): p is WorkerPattern => p !== undefined),
      jsResult,
      jsWorker,
      global: scopes.includes('global'),
      crontab,
      crontabResult,
    };
  });
}

function refuse(message: string): never {
  throw new DomainError(DomainErrorCode.NotAcceptable, `token_limit: ${message}`);
}

function checkScope(scope: unknown, at: string): void {
  if (typeof scope === 'string') return;
  const variant = variantOf(scope);
  if (!variant) refuse(`${at}: expected "global" or an object with one key such as {"js_worker": "name*"}, got ${describeJson(scope)}`);
  if (variant[0] === 'js_worker' && typeof variant[1] !== 'string') {
    refuse(`${at}.js_worker: expected a worker name or a pattern ending in *, got ${describeJson(variant[1])}`);
  }
}

function checkPermission(permission: unknown, at: string): void {
  const variant = variantOf(permission);
  if (!variant) refuse(`${at}: expected an object with one key such as {"js_result": {"read": "name*"}}, got ${describeJson(permission)}`);
  if (variant[0] === 'js_worker' && typeof variant[1] !== 'string') {
    refuse(`${at}.js_worker: expected a permission name such as "run_defined_js_worker", got ${describeJson(variant[1])}`);
  }
  if (variant[0] === 'crontab' && typeof variant[1] !== 'string') {
    refuse(`${at}.crontab: expected "read", "write" or "delete", got ${describeJson(variant[1])}`);
  }
  if (variant[0] !== 'js_result' && variant[0] !== 'crontab_result') return;
  const kind = variant[0];
  const inner = variantOf(variant[1]);
  if (!inner) refuse(`${at}.${kind}: expected an object with one key such as {"read": "name*"}, got ${describeJson(variant[1])}`);
  if (JS_RESULT_ACTIONS.includes(inner[0] as JsResultAction) && typeof inner[1] !== 'string') {
    refuse(`${at}.${kind}.${inner[0]}: expected a ${kind === 'js_result' ? 'worker' : 'job'} name or a pattern ending in *, got ${describeJson(inner[1])}`);
  }
}

/**
 * Checks limits given for a new token. The kinds this service knows must be
 * well-formed; unknown kinds are kept as they are, for NodeGet compatibility.
 */
export function checkTokenLimits(raw: unknown): void {
  if (!Array.isArray(raw)) refuse(`expected an array of limits, got ${describeJson(raw)}`);
  raw.forEach((limit, i) => {
    if (!isRecord(limit)) refuse(`[${i}]: expected an object {"scopes": [...], "permissions": [...]}, got ${describeJson(limit)}`);
    if (!Array.isArray(limit.scopes)) refuse(`[${i}].scopes: expected an array, got ${describeJson(limit.scopes)}`);
    if (!Array.isArray(limit.permissions)) refuse(`[${i}].permissions: expected an array, got ${describeJson(limit.permissions)}`);
    limit.scopes.forEach((scope, j) => checkScope(scope, `[${i}].scopes[${j}]`));
    limit.permissions.forEach((permission, j) => checkPermission(permission, `[${i}].permissions[${j}]`));
  });
}
