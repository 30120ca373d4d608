import { DEFAULT_QUERY_CAP, type Selection } from '../src/js-result/conditions/condition.types';
import { deleteSql, knownWorkers, selectSql, type SqlStatement, type WorkerScope } from '../src/js-result/js-result.sql';
import { accessibleWorkers, canAccessWorker, type Auth, type WorkerAccess } from '../src/token/auth';
import type { JsResultAction } from '../src/token/token-limit';

export type CallMethod = 'js-result_query' | 'js-result_delete';

export const ACTION_OF: Record<CallMethod, JsResultAction> = {
  'js-result_query': 'read',
  'js-result_delete': 'delete',
};

/** What one call may touch: a refusal naming the worker, or the access to put into the SQL. */
export type CallAccess = { denied: string } | { access: WorkerAccess };

/**
 * The same decision JsResultService.authorise makes (it is private there):
 * every named worker is checked and then the names pin the rows, so access is
 * `all`; with no name the call is narrowed to what the token reaches.
 */
export function accessForCall(selection: Selection, auth: Auth, action: JsResultAction): CallAccess {
  if (selection.namedWorkers.length === 0) return { access: accessibleWorkers(auth, action) };
  const refused = selection.namedWorkers.find((worker) => !canAccessWorker(auth, action, worker));
  return refused === undefined ? { access: { kind: 'all' } } : { denied: refused };
}

export function grantsNothing(access: WorkerAccess): boolean {
  return access.kind === 'some' && access.names.length === 0 && access.prefixes.length === 0;
}

/**
 * The statement the service runs for this call, built by the service's own
 * pure builders. As in the service, a restricted read is narrowed to worker
 * names known beforehand (`prefixedNames`: the existing names under the
 * token's prefixes), while a delete resolves them inside its statement.
 */
export function statementForCall(
  method: CallMethod,
  selection: Selection,
  access: WorkerAccess,
  prefixedNames: readonly string[],
): SqlStatement | undefined {
  if (method === 'js-result_delete') return deleteSql(selection.filters, access, selection.limit);
  const scope: WorkerScope = access.kind === 'all' ? access : knownWorkers(access.names, prefixedNames);
  // No worker to read: the service answers [] without asking the database.
  if (scope.kind === 'workers' && scope.names.length === 0) return undefined;
  return selectSql(selection.filters, scope, selection.limit ?? DEFAULT_QUERY_CAP);
}
