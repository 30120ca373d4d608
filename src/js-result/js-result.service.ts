import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { DomainError, DomainErrorCode } from '../common/domain.error';
import { withDatabase } from '../database/database.errors';
import { accessibleWorkers, canAccessWorker, type Auth, type WorkerAccess } from '../token/auth';
import type { JsResultAction } from '../token/token-limit';
import { DEFAULT_QUERY_CAP, type Selection } from './conditions/condition.types';
import { type DeleteOutcome, type JsResultRecord, toRecord } from './js-result.record';
import { deleteSql, selectSql } from './js-result.sql';

const ACTION_NAMES: Record<JsResultAction, string> = { read: 'Read', delete: 'Delete' };

@Injectable()
export class JsResultService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The newest records matching every condition that the caller may read. */
  async query(selection: Selection, auth: Auth): Promise<JsResultRecord[]> {
    const access = this.authorise(selection, auth, 'read');
    if (grantsNothing(access)) return [];
    const { text, values } = selectSql(selection.filters, access, selection.limit ?? DEFAULT_QUERY_CAP);
    const rows: Parameters<typeof toRecord>[0][] = await withDatabase(() => this.dataSource.query(text, values));
    return rows.map(toRecord);
  }

  /** Deletes what `query` would select, without its default cap, in one statement. */
  async delete(selection: Selection, auth: Auth): Promise<DeleteOutcome> {
    const access = this.authorise(selection, auth, 'delete');
    const outcome = (deleted: number): DeleteOutcome => ({
      success: true,
      deleted,
      condition_count: selection.conditionCount,
    });
    if (grantsNothing(access)) return outcome(0);
    const { text, values } = deleteSql(selection.filters, access, selection.limit);
    return outcome(await withDatabase(() => this.affectedRows(text, values)));
  }

  /**
   * Named workers are each checked, and one refusal fails the whole call. With
   * no worker named the call is narrowed to what the token may reach instead.
   */
  private authorise(selection: Selection, auth: Auth, action: JsResultAction): WorkerAccess {
    if (selection.namedWorkers.length === 0) return accessibleWorkers(auth, action);
    for (const worker of selection.namedWorkers) {
      if (!canAccessWorker(auth, action, worker)) {
        throw new DomainError(
          DomainErrorCode.PermissionDenied,
          `Permission denied for js_result on worker '${worker}', action: ${ACTION_NAMES[action]}`,
        );
      }
    }
    // The conditions themselves pin the worker names, and each was allowed.
    return { kind: 'all' };
  }

  private async affectedRows(text: string, values: unknown[]): Promise<number> {
    const runner = this.dataSource.createQueryRunner();
    try {
      const result = await runner.query(text, values, true);
      return result.affected ?? 0;
    } finally {
      await runner.release();
    }
  }
}

function grantsNothing(access: WorkerAccess): boolean {
  return access.kind === 'some' && access.names.length === 0 && access.prefixes.length === 0;
}
