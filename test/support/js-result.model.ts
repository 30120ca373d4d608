/**
 * A plain in-memory reading of the contract (JSRESULT.md §2-4), written
 * independently of the SQL, to check the service against.
 */
export interface ModelRow {
  id: number;
  js_worker_id: number;
  js_worker_name: string;
  run_type: string;
  start_time: number | null;
  finish_time: number | null;
  param: unknown;
  result: unknown;
  error_message: string | null;
}

export interface ModelLimit {
  scopes: unknown[];
  permissions: unknown[];
}

/** Contract §4: P equal to the name, or P ending in `*` and the name starting with the rest. */
export function modelPatternMatches(pattern: string, name: string): boolean {
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}

export function modelAllows(limits: ModelLimit[], action: 'read' | 'delete', name: string): boolean {
  return limits.some(
    (limit) =>
      limit.scopes.some(
        (s) =>
          s === 'global' ||
          (typeof s === 'object' && s !== null && typeof (s as any).js_worker === 'string' && modelPatternMatches((s as any).js_worker, name)),
      ) &&
      limit.permissions.some((p) => {
        const rule = (p as any)?.js_result?.[action];
        return typeof rule === 'string' && Object.keys((p as any).js_result).length === 1 && modelPatternMatches(rule, name);
      }),
  );
}

const isRunning = (r: ModelRow) => r.result === null && r.error_message === null;

function holds(condition: unknown, r: ModelRow): boolean {
  if (condition === 'is_success') return r.result !== null && r.error_message === null;
  if (condition === 'is_failure') return r.error_message !== null;
  if (condition === 'is_running') return isRunning(r);
  if (condition === 'last') return true;
  const [key, value] = Object.entries(condition as Record<string, any>)[0];
  const between = (v: number | null, a: number, b: number) => v !== null && a <= v && v <= b;
  switch (key) {
    case 'id':
    case 'js_worker_id':
    case 'js_worker_name':
    case 'run_type':
      return (r as any)[key] === value;
    case 'start_time_from_to':
      return between(r.start_time, value[0], value[1]);
    case 'start_time_from':
      return r.start_time !== null && r.start_time >= value;
    case 'start_time_to':
      return r.start_time !== null && r.start_time <= value;
    case 'finish_time_from_to':
      return between(r.finish_time, value[0], value[1]);
    case 'finish_time_from':
      return r.finish_time !== null && r.finish_time >= value;
    case 'finish_time_to':
      return r.finish_time !== null && r.finish_time <= value;
    case 'limit':
      return true;
  }
  throw new Error(`model: unknown condition ${key}`);
}

/** Newest first: NULL start_time first, then start_time DESC, then id DESC. */
export function newestFirst(a: ModelRow, b: ModelRow): number {
  if (a.start_time === null && b.start_time !== null) return -1;
  if (b.start_time === null && a.start_time !== null) return 1;
  if (a.start_time !== b.start_time) return (b.start_time as number) - (a.start_time as number);
  return b.id - a.id;
}

function modelCap(conditions: unknown[], fallback: number | undefined): number | undefined {
  if (conditions.includes('last')) return 1;
  const limits = conditions.filter((c): c is { limit: number } => typeof c === 'object' && c !== null && 'limit' in c);
  if (limits.length === 0) return fallback;
  return Math.min(limits[limits.length - 1].limit, 10_000);
}

/**
 * What js-result_query (or, with forDelete, js-result_delete) selects for a
 * caller with these limits; `undefined` limits means the super token.
 * Returns 'denied' when a named worker is not allowed.
 */
export function modelSelect(
  rows: ModelRow[],
  conditions: unknown[],
  limits: ModelLimit[] | undefined,
  action: 'read' | 'delete',
  /** How many rows a read keeps when no `limit`/`last` says; count and page walks have no such cap. */
  defaultCap: number | undefined = action === 'read' ? 1000 : undefined,
): ModelRow[] | 'denied' {
  const named = conditions.flatMap((c) => (typeof c === 'object' && c !== null && 'js_worker_name' in c ? [(c as any).js_worker_name] : []));
  if (limits && named.some((n) => !modelAllows(limits, action, n))) return 'denied';
  const visible = limits && named.length === 0 ? rows.filter((r) => modelAllows(limits, action, r.js_worker_name)) : rows;
  const matching = visible.filter((r) => conditions.every((c) => holds(c, r))).sort(newestFirst);
  const cap = modelCap(conditions, defaultCap);
  return cap === undefined ? matching : matching.slice(0, cap);
}
