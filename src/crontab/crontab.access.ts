import { DomainError, DomainErrorCode } from '../common/domain.error';
import { type Auth, canUseWorker } from '../token/auth';
import type { CrontabAction, JsResultAction } from '../token/token-limit';
import type { WorkerPattern } from '../token/worker-pattern';
import { patternMatches } from '../token/worker-pattern';

const denied = (message: string) => new DomainError(DomainErrorCode.PermissionDenied, message);

/** Whether one limit grants `{"crontab": action}` under the scope `global`. */
export function mayCrontab(auth: Auth, action: CrontabAction): boolean {
  if (auth.kind === 'super') return true;
  return auth.limits.some((limit) => limit.global === true && limit.crontab?.has(action) === true);
}

export function requireCrontab(auth: Auth, action: CrontabAction): void {
  if (!mayCrontab(auth, action)) throw denied(`Missing crontab ${action} permission in global scope`);
}

/** `run_defined_js_worker` under a scope covering the job's worker, as js-worker_run needs. */
export function requireRunWorker(auth: Auth, workerName: string): void {
  if (!canUseWorker(auth, 'run_defined_js_worker', workerName)) {
    throw denied(`Missing js_worker run permission for '${workerName}'`);
  }
}

/** The job names a caller may read or delete firing records of: all, or these patterns. */
export type JobNameAccess = { kind: 'all' } | { kind: 'patterns'; names: string[]; prefixes: string[] };

/** From `{"crontab_result": {action: P}}` permissions under `global`. */
export function jobNameAccess(auth: Auth, action: JsResultAction): JobNameAccess {
  if (auth.kind === 'super') return { kind: 'all' };
  const patterns: WorkerPattern[] = auth.limits.flatMap((limit) => (limit.global === true ? (limit.crontabResult?.[action] ?? []) : []));
  const prefixes = [...new Set(patterns.flatMap((p) => (p.kind === 'prefix' ? [p.prefix] : [])))];
  if (prefixes.includes('')) return { kind: 'all' };
  const names = [...new Set(patterns.flatMap((p) => (p.kind === 'exact' ? [p.name] : [])))];
  return { kind: 'patterns', names, prefixes };
}

export function mayJobName(access: JobNameAccess, name: string): boolean {
  if (access.kind === 'all') return true;
  return access.names.includes(name) || access.prefixes.some((prefix) => patternMatches({ kind: 'prefix', prefix }, name));
}
