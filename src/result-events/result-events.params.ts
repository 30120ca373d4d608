import { describeJson } from '../common/describe-json';
import { invalidParams } from '../common/domain.error';
import { firstCap } from '../js-result/conditions/condition.parser';
import type { Selection } from '../js-result/conditions/condition.types';
import { parseQuery } from '../js-result/js-result.params';
import { ParsedBy } from '../json-rpc/rpc-params.validator';
import { Positional } from '../json-rpc/rpc-params.positions';
import type { WithToken } from '../token/token.guard';
import { TokenParam } from '../token/token.param';

export const MAX_WAIT_TIMEOUT_MS = 60_000;
export const DEFAULT_WAIT_TIMEOUT_MS = 30_000;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A 64-bit id, exact: large ones arrive as BigInt from the codec. */
function parseId(raw: unknown): bigint {
  let id: bigint | undefined;
  if (typeof raw === 'bigint') id = raw;
  else if (typeof raw === 'number' && Number.isSafeInteger(raw)) id = BigInt(raw);
  if (id === undefined || id < INT64_MIN || id > INT64_MAX) {
    throw invalidParams(`id: expected the js_result id (a 64-bit signed integer), got ${describeJson(raw)}`);
  }
  return id;
}

function parseTimeout(raw: unknown): number {
  if (raw === undefined || raw === null) return DEFAULT_WAIT_TIMEOUT_MS;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 0 || raw > MAX_WAIT_TIMEOUT_MS) {
    throw invalidParams(`timeout_ms: expected an integer from 0 to ${MAX_WAIT_TIMEOUT_MS} (milliseconds), got ${describeJson(raw)}`);
  }
  return raw;
}

/** The conditions of a subscription: those of a query, without a cap (a subscription has no "newest N"). */
function parseSubscriptionQuery(query: unknown): Selection {
  const selection = parseQuery(query);
  if (selection.limit !== undefined) {
    const { at, name } = firstCap((query as { condition: unknown[] }).condition)!;
    throw invalidParams(`query.condition[${at}]: "${name}" does not apply to a subscription; every matching record is sent`);
  }
  return selection;
}

function parseSubscriptionId(raw: unknown): string {
  if (typeof raw !== 'string') throw invalidParams(`subscription: expected a subscription id (a string), got ${describeJson(raw)}`);
  return raw;
}

/** `js-result_wait`. The token comes last: bad params are reported before a bad token. */
export class JsResultWaitParams implements WithToken {
  @Positional(1)
  @ParsedBy(parseId)
  id: bigint;

  @Positional(2)
  @ParsedBy(parseTimeout, 'timeout_ms')
  timeoutMs: number;

  @Positional(0)
  @TokenParam()
  token: string;
}

/** `js-result_subscribe`. */
export class JsResultSubscribeParams implements WithToken {
  @Positional(1)
  @ParsedBy(parseSubscriptionQuery, 'query')
  selection: Selection;

  @Positional(0)
  @TokenParam()
  token: string;
}

/** `js-result_unsubscribe`: no token; a subscription is reachable only from its own connection. */
export class JsResultUnsubscribeParams {
  @Positional(0)
  @ParsedBy(parseSubscriptionId)
  subscription: string;
}
