import { describeJson } from '../common/describe-json';
import { invalidParams } from '../common/domain.error';
import { ParsedBy } from '../json-rpc/rpc-params.validator';
import { Positional } from '../json-rpc/rpc-params.positions';
import type { WithToken } from '../token/token.guard';
import { TokenParam } from '../token/token.param';

export const DEFAULT_AUDIT_LIMIT = 100;
export const MAX_AUDIT_LIMIT = 1_000;

/** Absent or null: no bound. 64-bit integers arrive as BigInt; timestamps beyond 2^53 ms are not times. */
const parseTimestamp = (param: string) => (raw: unknown): number | undefined => {
  if (raw === undefined || raw === null) return undefined;
  const value = typeof raw === 'bigint' ? Number(raw) : raw;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  throw invalidParams(`${param}: expected a timestamp in ms (an integer) or null, got ${describeJson(raw)}`);
};

function parseMethod(raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string') return raw;
  throw invalidParams(`method: expected a method name such as "token_delete", or null, got ${describeJson(raw)}`);
}

function parseLimit(raw: unknown): number {
  if (raw === undefined || raw === null) return DEFAULT_AUDIT_LIMIT;
  if (typeof raw === 'number' && Number.isInteger(raw) && raw >= 1 && raw <= MAX_AUDIT_LIMIT) return raw;
  throw invalidParams(`limit: expected an integer from 1 to ${MAX_AUDIT_LIMIT}, got ${describeJson(raw)}`);
}

/** Params of `audit_query`, checked in this order, the token last. */
export class AuditQueryParams implements WithToken {
  @Positional(1)
  @ParsedBy(parseTimestamp('from'))
  from?: number;

  @Positional(2)
  @ParsedBy(parseTimestamp('to'))
  to?: number;

  @Positional(3)
  @ParsedBy(parseMethod)
  method?: string;

  @Positional(4)
  @ParsedBy(parseLimit)
  limit: number;

  @Positional(0)
  @TokenParam()
  token: string;
}
