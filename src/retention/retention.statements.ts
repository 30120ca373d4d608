import type { Statement } from '../database/statement';
import { NOW_MS_SQL } from '../database/statement';
import { type CompanionStep, deleteExpiredBatch } from '../js-result/js-result.repository';
import type { RunOutcome } from '../js-result/js-result.outcomes';
import type { RowKey } from '../js-result/row-key';
import type { Outcome } from './retention.params';

/** What one policy deletes of one worker: its rows in that outcome after `after` (in the newest-first order). */
export interface SweepRule {
  policyId: number;
  worker: string;
  outcome: Outcome;
  after: RowKey;
}

/** The js_result outcome each policy outcome means: only finished rows have one, so no policy ever touches a running row. */
export const RUN_OUTCOME: Record<Outcome, RunOutcome> = {
  success: 'succeeded',
  failure: 'failed',
  any: 'finished',
};

/**
 * Adds a batch's deleted rows (`changed`, see deleteExpiredBatch) to the
 * sweep's tally, in the deleting statement itself, so a deletion is never
 * without its count. $1 is the policy's id.
 */
export const tallyStep = (policyId: number): CompanionStep => ({
  text: `INSERT INTO js_result_retention_sweep AS s (id, deleted, policies)
  SELECT 1, count(*), jsonb_build_array($1::bigint) FROM changed HAVING count(*) > 0
  ON CONFLICT (id) DO UPDATE SET
    deleted = s.deleted + excluded.deleted,
    policies = CASE WHEN s.policies @> excluded.policies THEN s.policies ELSE s.policies || excluded.policies END`,
  values: [policyId],
});

/** A rule's next batch of deletes, with its tally (JsResultRepository.deleteExpired runs the same statement). */
export function deleteBatch(rule: SweepRule, batchSize: number): Statement {
  return deleteExpiredBatch({ worker: rule.worker, outcome: RUN_OUTCOME[rule.outcome], after: rule.after }, batchSize, tallyStep(rule.policyId));
}

/**
 * Turns the tally of deleted rows into one audit entry (method `retention`,
 * by the server) and clears it, in one statement; nothing when nothing was
 * deleted. Answers the entry's count, if one was written.
 */
export const RECORD_SWEEP: Statement = {
  text: `WITH done AS (DELETE FROM js_result_retention_sweep WHERE id = 1 RETURNING deleted, policies)
INSERT INTO audit_log (at, token_key, origin, method, params, affected)
SELECT ${NOW_MS_SQL}, NULL, 'server', 'retention', jsonb_build_object('policies', policies), deleted FROM done WHERE deleted > 0
RETURNING affected::text AS affected`,
  values: [],
};
