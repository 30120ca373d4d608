import { DEFAULT_QUERY_CAP, type Selection } from '../src/js-result/conditions/condition.types';
import { deleteSql, knownWorkers, selectSql, type SqlStatement, type WorkerScope } from '../src/js-result/js-result.sql';
import type { WorkerAccess } from '../src/token/auth';
import type { JsResultAction } from '../src/token/token-limit';

export type CallMethod = 'js-result_query' | 'js-result_delete';

export const ACTION_OF: Record<CallMethod, JsResultAction> = {
  'js-result_query': 'read',
  'js-result_delete': 'delete',
};

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
