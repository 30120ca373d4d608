import { DEFAULT_QUERY_CAP, type Selection } from '../src/js-result/conditions/condition.types';
import { deleteSql, selectSql, type SqlStatement } from '../src/js-result/js-result.sql';
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

/** The statement the service runs for this call, built by the service's own pure builders. */
export function statementForCall(method: CallMethod, selection: Selection, access: WorkerAccess): SqlStatement {
  return method === 'js-result_query'
    ? selectSql(selection.filters, access, selection.limit ?? DEFAULT_QUERY_CAP)
    : deleteSql(selection.filters, access, selection.limit);
}
