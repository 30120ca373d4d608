import { describeJson } from '../common/describe-json';
import { invalidParams } from '../common/domain.error';
import { ParsedBy } from '../json-rpc/rpc-params.validator';
import { Positional } from '../json-rpc/rpc-params.positions';
import type { WithToken } from '../token/token.guard';
import { TokenParam } from '../token/token.param';

/**
 * Params of the `js-result_retention_*` methods, in the order they are
 * checked, the token last. Only forms are checked here (-32602); whether a
 * well-formed value is acceptable (ranges, an empty pattern) is decided by the
 * service once the caller is known (108).
 */

export const OUTCOMES = ['any', 'success', 'failure'] as const;
export type Outcome = (typeof OUTCOMES)[number];

function parsePattern(raw: unknown): string {
  if (typeof raw === 'string') return raw;
  throw invalidParams(`js_worker: expected a worker name or a pattern ending in * (a string), got ${describeJson(raw)}`);
}

/** Absent or null: not given. 64-bit integers arrive as BigInt; the service rejects them as out of range. */
const parseCount = (param: string, unit: string) => (raw: unknown): number | undefined => {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'bigint') return Number(raw);
  if (typeof raw === 'number' && Number.isInteger(raw)) return raw;
  throw invalidParams(`${param}: expected an integer number of ${unit}, or null, got ${describeJson(raw)}`);
};

function parseOutcome(raw: unknown): Outcome {
  if (raw === undefined || raw === null) return 'any';
  if (typeof raw === 'string' && (OUTCOMES as readonly string[]).includes(raw)) return raw as Outcome;
  throw invalidParams(`outcome: expected "any", "success" or "failure", or null, got ${describeJson(raw)}`);
}

/** Decimal text, so an id beyond 2^53 is looked up as sent (and not found) rather than rounded onto another. */
function parseId(raw: unknown): string {
  if (typeof raw === 'bigint') return raw.toString();
  // From 1e21 up a number's own text is exponential (`1e+21`), which is not an id's text.
  if (typeof raw === 'number' && Number.isInteger(raw)) return BigInt(raw).toString();
  throw invalidParams(`id: expected a policy id (an integer), got ${describeJson(raw)}`);
}

export class RetentionSetParams implements WithToken {
  @Positional(1)
  @ParsedBy(parsePattern, 'js_worker')
  pattern: string;

  @Positional(2)
  @ParsedBy(parseCount('keep_days', 'days'), 'keep_days')
  keepDays?: number;

  @Positional(3)
  @ParsedBy(parseCount('keep_last', 'records'), 'keep_last')
  keepLast?: number;

  @Positional(4)
  @ParsedBy(parseOutcome)
  outcome: Outcome;

  @Positional(0)
  @TokenParam()
  token: string;
}

export class RetentionListParams implements WithToken {
  @Positional(0)
  @TokenParam()
  token: string;
}

export class RetentionDeleteParams implements WithToken {
  @Positional(1)
  @ParsedBy(parseId)
  id: string;

  @Positional(0)
  @TokenParam()
  token: string;
}
