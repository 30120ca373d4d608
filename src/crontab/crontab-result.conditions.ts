import {
  type ConditionVocabulary,
  int64Condition,
  rangeCondition,
  stringCondition,
} from '../js-result/conditions/condition.parser';
import type { ConditionTerms } from '../js-result/conditions/condition.terms';

/** A parsed crontab-result condition (CRONTAB.md); the caps are the shared ones. */
export type CrontabResultFilter =
  | { kind: 'id'; value: bigint }
  | { kind: 'cron_id'; value: bigint }
  | { kind: 'cron_name'; value: string }
  | { kind: 'run_time_from'; value: bigint }
  | { kind: 'run_time_to'; value: bigint }
  | { kind: 'is_success' }
  | { kind: 'is_failure' };

/** NodeGet's CrontabResultQueryCondition, parsed by the js-result machinery. */
export const CRONTAB_RESULT_CONDITIONS: ConditionVocabulary<CrontabResultFilter> = {
  valued: {
    id: int64Condition('id'),
    cron_id: int64Condition('cron_id'),
    cron_name: stringCondition('cron_name'),
    run_time_from_to: rangeCondition('run_time_from', 'run_time_to', 'run_time_from_to'),
    run_time_from: int64Condition('run_time_from'),
    run_time_to: int64Condition('run_time_to'),
  },
  flags: ['is_success', 'is_failure'],
};

/** Each condition as a WHERE term over CrontabResult's properties. */
export const CRONTAB_RESULT_TERMS: ConditionTerms<CrontabResultFilter> = {
  id: (c, p) => `${c('id')} = :${p}::bigint`,
  cron_id: (c, p) => `${c('cronId')} = :${p}::bigint`,
  cron_name: (c, p) => `${c('cronName')} = :${p}`,
  run_time_from: (c, p) => `${c('runTime')} >= :${p}::bigint`,
  run_time_to: (c, p) => `${c('runTime')} <= :${p}::bigint`,
  // NodeGet matches success = true / false: a record of unknown outcome (NULL) is neither.
  is_success: (c) => `${c('success')} = true`,
  is_failure: (c) => `${c('success')} = false`,
};
