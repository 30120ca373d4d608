import { invalidParams } from '../common/domain.error';
import { describeJson } from '../common/describe-json';
import type { RpcParams } from '../json-rpc/rpc-method.registry';
import { parseConditions } from './conditions/condition.parser';
import type { Selection } from './conditions/condition.types';

/** The params of `js-result_query` and `js-result_delete`, parsed. */
export interface JsResultParams {
  token: string;
  selection: Selection;
}

export const JS_RESULT_PARAM_NAMES = ['token', 'query'] as const;

/**
 * Every param is checked before the token is looked at, so a call with bad
 * params and a bad token is reported as bad params.
 */
export function parseJsResultParams(params: RpcParams): JsResultParams {
  const { token, query } = params;
  if (query === undefined) throw invalidParams('query: missing; expected {"condition": [...]}');
  if (query === null || typeof query !== 'object' || Array.isArray(query)) {
    throw invalidParams(`query: expected an object {"condition": [...]}, got ${describeJson(query)}`);
  }
  const selection = parseConditions((query as Record<string, unknown>).condition);
  if (typeof token !== 'string') {
    throw invalidParams(
      `token: expected a string "key:secret" or "username|password", got ${token === undefined ? 'nothing' : describeJson(token)}`,
    );
  }
  return { token, selection };
}
