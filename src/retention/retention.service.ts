import { Injectable } from '@nestjs/common';
import { DomainError, DomainErrorCode } from '../common/domain.error';
import type { AuditAction } from '../database/audited-change';
import type { Auth } from '../token/auth';
import { parseWorkerPattern } from '../token/worker-pattern';
import { mayActOnPattern } from './retention.access';
import { type PolicyRow, RetentionPolicyRepository } from './retention-policy.repository';
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
  constructor(private readonly policies: RetentionPolicyRepository) {}

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
    const values = { pattern: policy.pattern, keepDays: policy.keepDays ?? null, keepLast: policy.keepLast ?? null, outcome: policy.outcome };
    return toRecord(await this.policies.upsert(values, action));
  }

  /** The policies whose whole pattern the caller may read, oldest first. */
  async list(auth: Auth): Promise<RetentionPolicyRecord[]> {
    const rows = await this.policies.all();
    return rows.filter((row) => mayActOnPattern(auth, 'read', parseWorkerPattern(row.js_worker))).map(toRecord);
  }

  /** Deletes a policy the caller could have set (delete permission covering its pattern). */
  async delete(id: string, auth: Auth, action: AuditAction): Promise<{ success: true }> {
    const policy = await this.findPattern(id);
    if (policy === undefined || !mayActOnPattern(auth, 'delete', parseWorkerPattern(policy))) throw notFound(id);
    // The pattern is matched again: the permission was checked against it, and a policy is never moved to another.
    if (!(await this.policies.delete(id, policy, action))) throw notFound(id);
    return { success: true };
  }

  private async findPattern(id: string): Promise<string | undefined> {
    const value = BigInt(id);
    if (value < INT8_MIN || value > INT8_MAX) return undefined;
    return this.policies.patternOf(id);
  }
}
