import { Column, Entity, Generated, Index, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '../common/bigint.transformer';
import type { AuditOrigin } from '../database/audited-change';

/** One recorded change; written in the statement that makes the change, never rewritten. */
@Entity({ name: 'audit_log' })
@Index('ix_audit_log_at', ['at', 'id'])
@Index('ix_audit_log_method_at', ['method', 'at', 'id'])
export class AuditLogEntry {
  @PrimaryColumn({ name: 'id', type: 'bigint', transformer: bigintAsNumber })
  @Generated('increment') // an identity column (see the migration); this only tells TypeORM the database assigns it
  id: number;

  /** Milliseconds since the epoch, by the database's clock, so instances agree on the order. */
  @Column({ name: 'at', type: 'bigint', transformer: bigintAsNumber })
  at: number;

  /** The caller's token key (never a secret); null for the CLI and the server. */
  @Column({ name: 'token_key', type: 'varchar', length: 64, nullable: true })
  tokenKey: string | null;

  @Column({ name: 'origin', type: 'varchar', length: 16 })
  origin: AuditOrigin;

  @Column({ name: 'method', type: 'varchar', length: 64 })
  method: string;

  /** The call's params by name, secrets and passwords replaced by "***". */
  @Column({ name: 'params', type: 'jsonb' })
  params: Record<string, unknown>;

  @Column({ name: 'affected', type: 'bigint', transformer: bigintAsNumber })
  affected: number;
}
