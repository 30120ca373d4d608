import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { type AuditAction, audited } from '../audit/audit.statements';
import { DomainError, DomainErrorCode } from '../common/domain.error';
import { withDatabase } from '../database/database.errors';
import { NOW_MS_SQL, type Statement } from '../database/statement';
import type { Auth } from '../token/auth';
import { parseWorkerPattern } from '../token/worker-pattern';
import { mayActOnPattern } from './retention.access';
import type { Outcome } from './retention.params';

/** A policy on the wire. */
export interface RetentionPolicyRecord {
  id: number;
  js_worker: string;
  keep_days: number | null;
  keep_last: number | null;
  outcome: Outcome;
}

export interface NewRetentionPolicy {
  pattern: string;
  keepDays?: number;
  keepLast?: number;
  outcome: Outcome;
}

export const KEEP_DAYS_MAX = 36_500;
export const KEEP_LAST_MAX = 10_000_000;
/** A worker name is at most 255 characters (js-worker.rules.ts); a prefix pattern adds its `*`. */
export const PATTERN_MAX_LENGTH = 256;

const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;

const POLICY_COLUMNS = 'id::text AS id, js_worker, keep_days, keep_last, outcome';

/** A policy as its table returns it (id as text: exact for 64-bit). */
export interface PolicyRow {
  id: string;
  js_worker: string;
  keep_days: number | null;
  keep_last: number | null;
  outcome: Outcome;
}

const toRecord = (row: PolicyRow): RetentionPolicyRecord => ({
  id: Number(row.id),
  js_worker: row.js_worker,
  keep_days: row.keep_days === null ? null : Number(row.keep_days),
  keep_last: row.keep_last === null ? null : Number(row.keep_last),
  outcome: row.outcome,
});

function notAcceptable(message: string): DomainError {
  return new DomainError(DomainErrorCode.NotAcceptable, message);
}

/** Absent, or an integer within [1, max]. */
function checkCount(param: string, value: number | undefined, max: number): void {
  if (value === undefined) return;
  if (value < 1 || value > max) throw notAcceptable(`${param}: must be from 1 to ${max}, got ${value}`);
}

function checkPolicy(policy: NewRetentionPolicy): void {
  const length = [...policy.pattern].length;
  if (length === 0 || length > PATTERN_MAX_LENGTH) {
    throw notAcceptable(`js_worker: must be 1 to ${PATTERN_MAX_LENGTH} characters, got ${length}`);
  }
  if (policy.keepDays === undefined && policy.keepLast === undefined) {
    throw notAcceptable('a policy needs keep_days, keep_last or both');
  }
  checkCount('keep_days', policy.keepDays, KEEP_DAYS_MAX);
  checkCount('keep_last', policy.keepLast, KEEP_LAST_MAX);
}

/** The same answer for a policy that does not exist and one the caller may not touch, so ids cannot be probed. */
const notFound = (id: string) => new DomainError(DomainErrorCode.NotFound, `Retention policy ${id} not found`);

/** The retention policies (`js-result_retention_*`); RetentionSweeper applies them. */
@Injectable()
export class RetentionService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Creates the policy for its pattern and outcome, or replaces the one there
   * is (keeping its id). The caller must be allowed to delete results of every
   * worker the pattern can ever match.
   */
  async set(policy: NewRetentionPolicy, auth: Auth, action: AuditAction): Promise<RetentionPolicyRecord> {
    checkPolicy(policy);
    if (!mayActOnPattern(auth, 'delete', parseWorkerPattern(policy.pattern))) {
      throw new DomainError(
        DomainErrorCode.PermissionDenied,
        `Permission denied for js_result on worker '${policy.pattern}', action: Delete`,
      );
    }
    const upsert: Statement = {
      text: `INSERT INTO js_result_retention (js_worker, keep_days, keep_last, outcome, created_at)
VALUES ($1, $2::int, $3::int, $4, ${NOW_MS_SQL})
ON CONFLICT (js_worker, outcome) DO UPDATE SET keep_days = excluded.keep_days, keep_last = excluded.keep_last
RETURNING ${POLICY_COLUMNS}`,
      values: [policy.pattern, policy.keepDays ?? null, policy.keepLast ?? null, policy.outcome],
    };
    const [row] = await this.run<PolicyRow[]>(audited(upsert, action));
    return toRecord(row);
  }

  /** The policies whose whole pattern the caller may read, oldest first. */
  async list(auth: Auth): Promise<RetentionPolicyRecord[]> {
    const rows = await this.run<PolicyRow[]>({ text: `SELECT ${POLICY_COLUMNS} FROM js_result_retention ORDER BY id`, values: [] });
    return rows.filter((row) => mayActOnPattern(auth, 'read', parseWorkerPattern(row.js_worker))).map(toRecord);
  }

  /** Deletes a policy the caller could have set (delete permission covering its pattern). */
  async delete(id: string, auth: Auth, action: AuditAction): Promise<{ success: true }> {
    const policy = await this.findPattern(id);
    if (policy === undefined || !mayActOnPattern(auth, 'delete', parseWorkerPattern(policy))) throw notFound(id);
    // The pattern is matched again: the permission was checked against it, and a policy is never moved to another.
    const removal: Statement = { text: 'DELETE FROM js_result_retention WHERE id = $1::bigint AND js_worker = $2 RETURNING id', values: [id, policy] };
    const removed = await this.run<unknown[]>(audited(removal, action));
    if (removed.length === 0) throw notFound(id);
    return { success: true };
  }

  private async findPattern(id: string): Promise<string | undefined> {
    const value = BigInt(id);
    if (value < INT8_MIN || value > INT8_MAX) return undefined;
    const rows = await this.run<{ js_worker: string }[]>({ text: 'SELECT js_worker FROM js_result_retention WHERE id = $1::bigint', values: [id] });
    return rows[0]?.js_worker;
  }

  private run<T>({ text, values }: Statement): Promise<T> {
    return withDatabase(() => this.dataSource.query<T>(text, values));
  }
}
