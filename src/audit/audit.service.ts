import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { withDatabase } from '../database/database.errors';
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

const DAY_MS = 86_400_000;
const PRUNE_BATCH = 5_000;
const PRUNE_EVERY_MS = 3_600_000;

function toRecord(entry: AuditLogEntry): AuditRecord {
  return {
    id: entry.id,
    at: entry.at,
    token_key: entry.tokenKey,
    origin: entry.origin,
    method: entry.method,
    params: entry.params,
    affected: entry.affected,
  };
}

/**
 * Reads the audit log and keeps it to its retention. Entries are written by
 * the statements that make the changes (audit.statements.ts), not here.
 */
@Injectable()
export class AuditService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Newest first; `from` and `to` bound `at` (ms, inclusive). */
  async query(filter: AuditFilter): Promise<AuditRecord[]> {
    const qb = this.dataSource.getRepository(AuditLogEntry).createQueryBuilder('a');
    if (filter.from !== undefined) qb.andWhere('a.at >= :from', { from: filter.from });
    if (filter.to !== undefined) qb.andWhere('a.at <= :to', { to: filter.to });
    if (filter.method !== undefined) qb.andWhere('a.method = :method', { method: filter.method });
    qb.orderBy('a.at', 'DESC').addOrderBy('a.id', 'DESC').take(filter.limit);
    const entries = await withDatabase(() => qb.getMany());
    return entries.map(toRecord);
  }

  /**
   * Deletes entries older than `keepDays`, a batch at a time, so a first prune
   * of a long-neglected log never holds one long statement. Returns how many went.
   */
  async prune(keepDays: number, now = Date.now()): Promise<number> {
    const before = now - keepDays * DAY_MS;
    let pruned = 0;
    for (;;) {
      const [, deleted] = await withDatabase(() =>
        this.dataSource.query<[unknown[], number]>(
          `DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < $1 ORDER BY at LIMIT ${PRUNE_BATCH})`,
          [before],
        ),
      );
      pruned += deleted;
      if (deleted < PRUNE_BATCH) return pruned;
    }
  }
}

/** Prunes the audit log to AUDIT_KEEP_DAYS at start and every hour; 0 keeps every entry. */
@Injectable()
export class AuditRetention implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AuditRetention.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'auditKeepDays'>,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.auditKeepDays === 0) return;
    this.running = this.pruneOnce();
    this.timer = setInterval(() => (this.running = this.pruneOnce()), PRUNE_EVERY_MS).unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async pruneOnce(): Promise<void> {
    try {
      const pruned = await this.audit.prune(this.config.auditKeepDays);
      if (pruned > 0) this.logger.log(`pruned ${pruned} audit entries older than ${this.config.auditKeepDays} days`);
    } catch (err) {
      // The database may be away; the next hour tries again.
      this.logger.warn(`audit prune failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
