import { Injectable } from '@nestjs/common';
import { Database } from '../database/database';
import { type Statement, statementOf } from '../database/statement';
import { AuditLogEntry } from './audit-log.entity';

/** An entry as `audit_query` answers it. */
export interface AuditRecord {
  id: number;
  at: number;
  token_key: string | null;
  origin: AuditLogEntry['origin'];
  method: string;
  params: Record<string, unknown>;
  affected: number;
}

export interface AuditFilter {
  from?: number;
  to?: number;
  method?: string;
  limit: number;
}

type AuditRow = Omit<AuditRecord, 'id' | 'at' | 'affected'> & { id: string | number; at: string | number; affected: string | number };

const toRecord = (row: AuditRow): AuditRecord => ({
  id: Number(row.id),
  at: Number(row.at),
  token_key: row.token_key,
  origin: row.origin,
  method: row.method,
  params: row.params,
  affected: Number(row.affected),
});

/**
 * The `audit_log` table: the only code that reads it or deletes from it.
 * Entries are appended by the statements that make the changes
 * (database/audited-change.ts), never here.
 */
@Injectable()
export class AuditLogRepository {
  constructor(private readonly db: Database) {}

  /** Newest first; `from` and `to` bound `at` (ms, inclusive). */
  async query(filter: AuditFilter): Promise<AuditRecord[]> {
    const qb = this.db
      .select(AuditLogEntry, 'a')
      .select(['a.id AS id', 'a.at AS at', 'a.token_key AS token_key', 'a.origin AS origin'])
      .addSelect(['a.method AS method', 'a.params AS params', 'a.affected AS affected']);
    if (filter.from !== undefined) qb.andWhere('a.at >= :from', { from: filter.from });
    if (filter.to !== undefined) qb.andWhere('a.at <= :to', { to: filter.to });
    if (filter.method !== undefined) qb.andWhere('a.method = :method', { method: filter.method });
    qb.orderBy('a.at', 'DESC').addOrderBy('a.id', 'DESC').limit(filter.limit);
    const rows = await this.db.rows<AuditRow>(statementOf(qb));
    return rows.map(toRecord);
  }

  /** Deletes up to `batch` of the oldest entries from before `before` (ms); how many went. */
  async deleteOlder(before: number, batch: number): Promise<number> {
    const oldest = this.db.select(AuditLogEntry, 'old').select('old.id').where('old.at < :before', { before }).orderBy('old.at').limit(batch);
    const gone = this.db.dataSource
      .createQueryBuilder()
      .delete()
      .from(AuditLogEntry)
      .where(`id IN (${oldest.getQuery()})`)
      .setParameters(oldest.getParameters())
      .returning('1');
    const counted = this.db.dataSource.createQueryBuilder().addCommonTableExpression(gone, 'gone').select('count(*)', 'deleted').from('gone', 'gone');
    const [row] = await this.db.rows<{ deleted: string | number }>(statementOf(counted));
    return Number(row.deleted);
  }
}
