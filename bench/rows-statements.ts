import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import type { Filter } from '../src/js-result/conditions/condition.types';
import type { RowKey } from '../src/js-result/row-key';
import { type Fragment, JsResultStatements, type RecordField, type Statement, type WorkerScope } from '../src/js-result/js-result.statements';

/**
 * The service's statement builder with one more read form, `selectRows`: the
 * rows selectJson answers, one plain database row each, `param` and `result`
 * as jsonb. The service never reads this form; it is how a hand-written
 * server reads them (the benchmark's bare server, pgbench, EXPLAIN) and what
 * the predicate tests compare. Used by bench/ and by tests (through
 * test/support/rows-statements.ts).
 */
export class RowsStatements extends JsResultStatements {
  selectRows(filters: readonly Filter[], scope: WorkerScope, limit: number, fields?: readonly RecordField[]): Statement {
    return this.select('rows', filters, scope, limit, fields);
  }

  /** The rows of one page (`size` the page size + 1, as the service reads it), as selectRows gives them. */
  pageRows(filters: readonly Filter[], scope: WorkerScope, after: RowKey | undefined, size: number): Statement {
    return this.select('rows', filters, scope, size, undefined, after);
  }

  protected override buildForm(form: string, qb: SelectQueryBuilder<ObjectLiteral>, chosen: Fragment): void {
    if (form !== 'rows') return super.buildForm(form, qb, chosen);
    qb.select('r.*').from(`(${chosen.sql})`, 'r');
  }
}
