import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { type AuditFilter, AuditLogRepository, type AuditRecord } from './audit-log.repository';

export type { AuditFilter, AuditRecord };

const DAY_MS = 86_400_000;
const PRUNE_BATCH = 5_000;
const PRUNE_EVERY_MS = 3_600_000;

/**
 * Reads the audit log and keeps it to its retention. Entries are written by
 * the statements that make the changes (database/audited-change.ts), not here.
 */
@Injectable()
export class AuditService {
  constructor(private readonly entries: AuditLogRepository) {}

  /** Newest first; `from` and `to` bound `at` (ms, inclusive). */
  query(filter: AuditFilter): Promise<AuditRecord[]> {
    return this.entries.query(filter);
  }

  /**
   * Deletes entries older than `keepDays`, a batch at a time, so a first prune
   * of a long-neglected log never holds one long statement. Returns how many went.
   */
  async prune(keepDays: number, now = Date.now()): Promise<number> {
    const before = now - keepDays * DAY_MS;
    let pruned = 0;
    for (;;) {
      const deleted = await this.entries.deleteOlder(before, PRUNE_BATCH);
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
