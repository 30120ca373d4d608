import { describeJson } from '../common/describe-json';
import { invalidParams } from '../common/domain.error';
import { ParsedBy } from '../json-rpc/rpc-params.validator';
import type { WithToken } from '../token/token.guard';
import { TokenParam } from '../token/token.param';
import { parseConditions } from './conditions/condition.parser';
import type { Selection } from './conditions/condition.types';

export const JS_RESULT_PARAM_NAMES = ['token', 'query'] as const;

/** `query` is `{"condition": [...]}`; the list becomes the typed selection once, here. */
export function parseQuery(query: unknown): Selection {
  if (query === undefined) throw invalidParams('query: missing; expected {"condition": [...]}');
  if (query === null || typeof query !== 'object' || Array.isArray(query)) {
    throw invalidParams(`query: expected an object {"condition": [...]}, got ${describeJson(query)}`);
  }
  return parseConditions((query as Record<string, unknown>).condition);
}

/**
 * Params of `js-result_query` and `js-result_delete`. The token comes last:
 * a call with bad params and a bad token is reported as bad params.
 */
export class JsResultParams implements WithToken {
  @ParsedBy(parseQuery, 'query')
  selection: Selection;

  @TokenParam()
  token: string;
}
