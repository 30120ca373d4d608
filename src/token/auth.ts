import type { JsResultAction, JsWorkerAction, TokenLimit } from './token-limit';
import { intersectPatterns, patternMatches, type WorkerPattern } from './worker-pattern';

/**
 * What the caller of one JSON-RPC call may do, resolved from its token. It is
 * passed to services explicitly; nothing downstream reads the request.
 */
export type Auth =
  | { kind: 'super'; tokenId: number; tokenKey: string }
  | { kind: 'limited'; tokenId: number; tokenKey: string; limits: readonly TokenLimit[] };

/** The workers a caller may act on: all of them, or these names and prefixes. */
export type WorkerAccess = { kind: 'all' } | { kind: 'patterns'; names: string[]; prefixes: string[] };

export function canAccessWorker(auth: Auth, action: JsResultAction, worker: string): boolean {
  if (auth.kind === 'super') return true;
  return auth.limits.some(
    (limit) =>
      limit.workerScopes.some((scope) => patternMatches(scope, worker)) &&
      limit.jsResult[action].some((permission) => patternMatches(permission, worker)),
  );
}

/**
 * Whether the caller may perform a `js_worker` action on the worker `name`: one
 * limit must have a scope covering the name AND that unit permission (a scope
 * from one limit and a permission from another do not combine).
 */
export function canUseWorker(auth: Auth, action: JsWorkerAction, name: string): boolean {
  if (auth.kind === 'super') return true;
  return auth.limits.some(
    (limit) => limit.jsWorker.has(action) && limit.workerScopes.some((scope) => patternMatches(scope, name)),
  );
}

/**
 * Every worker name the caller may act on, as exact names and prefixes, with
 * redundant entries removed. Matching a name against it agrees with
 * canAccessWorker, which lets the database apply it instead of reading every
 * row's worker name first.
 */
export function accessibleWorkers(auth: Auth, action: JsResultAction): WorkerAccess {
  if (auth.kind === 'super') return { kind: 'all' };
  const granted: WorkerPattern[] = auth.limits.flatMap((limit) =>
    limit.workerScopes.flatMap((scope) =>
      limit.jsResult[action].flatMap((permission) => intersectPatterns(scope, permission) ?? []),
    ),
  );
  const prefixes = minimalPrefixes(granted.flatMap((p) => (p.kind === 'prefix' ? [p.prefix] : [])));
  if (prefixes.includes('')) return { kind: 'all' };
  const names = [
    ...new Set(granted.flatMap((p) => (p.kind === 'exact' ? [p.name] : []))),
  ].filter((name) => !prefixes.some((prefix) => name.startsWith(prefix)));
  return { kind: 'patterns', names: names.sort(), prefixes };
}

/** Drops every prefix that a shorter one already covers. */
function minimalPrefixes(prefixes: string[]): string[] {
  const sorted = [...new Set(prefixes)].sort((a, b) => a.length - b.length);
  const kept: string[] = [];
  for (const prefix of sorted) if (!kept.some((k) => prefix.startsWith(k))) kept.push(prefix);
  return kept.sort();
}
