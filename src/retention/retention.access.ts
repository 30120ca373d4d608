import type { Auth } from '../token/auth';
import type { JsResultAction } from '../token/token-limit';
import type { WorkerPattern } from '../token/worker-pattern';
import { patternMatches } from '../token/worker-pattern';

/**
 * Whether every name `inner` matches is also matched by `outer`: an exact
 * name by any pattern matching it, a prefix only by a prefix it starts with
 * (an exact name never covers a prefix, however many workers exist today).
 */
export function patternCovers(outer: WorkerPattern, inner: WorkerPattern): boolean {
  if (inner.kind === 'exact') return patternMatches(outer, inner.name);
  return outer.kind === 'prefix' && inner.prefix.startsWith(outer.prefix);
}

/**
 * Whether the caller may act on a policy for `pattern`: one limit must have a
 * scope covering the whole pattern and a js_result permission for the action
 * covering it too. A policy deletes results of workers that do not exist yet,
 * so covering today's workers one by one is not enough.
 */
export function mayActOnPattern(auth: Auth, action: JsResultAction, pattern: WorkerPattern): boolean {
  if (auth.kind === 'super') return true;
  return auth.limits.some(
    (limit) =>
      limit.workerScopes.some((scope) => patternCovers(scope, pattern)) &&
      limit.jsResult[action].some((permission) => patternCovers(permission, pattern)),
  );
}
