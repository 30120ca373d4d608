import { notAcceptable } from './js-worker.rules';

/**
 * NodeGet's rules for a worker's `route_name` and `runtime_clean_time`
 * (crates/ng-js-worker/src/js_worker/route_name.rs, create.rs), with its
 * messages: the route name will be a path segment, so it is kept to a safe
 * alphabet and may not be `.` or `..`.
 */

export const MAX_ROUTE_NAME_LENGTH = 128;
const ROUTE_NAME_ALPHABET = /^[A-Za-z0-9._-]+$/;

/** Trimmed as NodeGet trims it; `null` (none) and `undefined` (not given) pass through. */
export function checkRouteName(raw: string | null | undefined): string | null | undefined {
  if (raw === undefined || raw === null) return raw;
  const name = raw.trim();
  if (name.length === 0) throw notAcceptable('route_name cannot be empty string');
  if (name.length > MAX_ROUTE_NAME_LENGTH) throw notAcceptable(`route_name too long (max ${MAX_ROUTE_NAME_LENGTH} chars)`);
  if (!ROUTE_NAME_ALPHABET.test(name)) throw notAcceptable('route_name can only contain [a-zA-Z0-9._-]');
  if (/^\.+$/.test(name)) throw notAcceptable("route_name cannot be '.' or '..'");
  return name;
}

/**
 * Milliseconds, a positive integer; `null` (none) and `undefined` (not given)
 * pass through. Bounded to the safe integers so that it is returned exactly.
 */
export function checkRuntimeCleanTime(raw: number | bigint | null | undefined): number | null | undefined {
  if (raw === undefined || raw === null) return raw;
  if (raw < 1 || raw > Number.MAX_SAFE_INTEGER) {
    throw notAcceptable(`runtime_clean_time: must be a positive integer of milliseconds (1 to ${Number.MAX_SAFE_INTEGER}) or null, got ${raw}`);
  }
  return Number(raw);
}

export const routeNameTaken = (name: string) => notAcceptable(`route_name already exists: ${name}`);
