import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source.factory';
import { PreparedStatements } from '../src/database/prepared-statements';
import { DEFAULT_QUERY_CAP, type Selection } from '../src/js-result/conditions/condition.types';
import { distinctNames, type Statement, type WorkerScope } from '../src/js-result/js-result.statements';
import { RowsStatements } from './rows-statements';
import type { AuditAction } from '../src/database/audited-change';
import type { WorkerAccess } from '../src/token/auth';
import type { JsResultAction } from '../src/token/token-limit';

export type CallMethod = 'js-result_query' | 'js-result_delete' | 'js-result_page';

export const ACTION_OF: Record<CallMethod, JsResultAction> = {
  'js-result_query': 'read',
  'js-result_delete': 'delete',
  'js-result_page': 'read',
};

/**
 * The service's statement builder, for code that runs the service's SQL
 * without the service (bare server, pgbench, EXPLAIN). The builder needs a
 * DataSource for TypeORM's entity metadata; this one holds a single idle
 * connection and runs nothing: callers run the texts on their own clients,
 * and `registry` holds the names the texts were given.
 */
export interface BenchStatements {
  statements: RowsStatements;
  registry: PreparedStatements;
  close(): Promise<void>;
}

export async function openBenchStatements(databaseUrl: string): Promise<BenchStatements> {
  const registry = new PreparedStatements();
  const options = dataSourceOptions({ database: { kind: 'postgres', url: databaseUrl }, poolSize: 1, statementTimeoutMs: 60_000 }, registry);
  const dataSource = await new DataSource(options).initialize();
  return { statements: new RowsStatements(dataSource, registry), registry, close: () => dataSource.destroy() };
}

/**
 * The statement for this call, built by the service's own statement builder:
 * `service` is the form the service runs (plain rows up to the default cap,
 * above it PostgreSQL assembles the reply's JSON), `rows` the same select
 * returning plain rows, as a hand-written server would run it. As in the service, a restricted read is narrowed to worker names
 * known beforehand (`prefixedNames`: the existing names under the token's
 * prefixes), while a delete resolves them inside its statement.
 */
export function statementForCall(
  statements: RowsStatements,
  method: CallMethod,
  selection: Selection,
  access: WorkerAccess,
  prefixedNames: readonly string[],
  form: 'service' | 'rows' = 'service',
  action: AuditAction = { origin: 'rpc', tokenKey: 'bench', method, params: {} },
): Statement | undefined {
  // A page's first page: `selection.limit` is its page size + 1 (see scenarioStatement), read as a query of that limit is.
  // A delete writes its audit entry in the same statement, as the service's does.
  if (method === 'js-result_delete') return statements.delete(selection.filters, access, selection.limit, action);
  const scope: WorkerScope = access.kind === 'all' ? access : distinctNames(access.names, prefixedNames);
  // No worker to read: the service answers [] without asking the database.
  if (scope.kind === 'listed-names' && scope.names.length === 0) return undefined;
  const limit = selection.limit ?? DEFAULT_QUERY_CAP;
  return form === 'service' && limit > DEFAULT_QUERY_CAP
    ? statements.selectJson(selection.filters, scope, limit)
    : statements.selectRows(selection.filters, scope, limit);
}
