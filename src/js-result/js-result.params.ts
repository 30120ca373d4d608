import { describeJson } from '../common/describe-json';
import { invalidParams } from '../common/domain.error';
import { stringifyJson } from '../json-rpc/json-rpc.codec';
import { ParsedBy } from '../json-rpc/rpc-params.validator';
import { Positional } from '../json-rpc/rpc-params.positions';
import type { WithToken } from '../token/token.guard';
import { TokenParam } from '../token/token.param';
import { firstCap, parseConditions } from './conditions/condition.parser';
import type { Selection } from './conditions/condition.types';
import { RECORD_FIELDS, type RecordField } from './js-result.columns';

export { RECORD_FIELDS };

export const DEFAULT_PAGE_SIZE = 1_000;
export const MAX_PAGE_SIZE = 10_000;

/** `query` is `{"condition": [...]}`; the list becomes the typed selection once, here. */
export function parseQuery(query: unknown): Selection {
  if (query === undefined) throw invalidParams('query: missing; expected {"condition": [...]}');
  if (query === null || typeof query !== 'object' || Array.isArray(query)) {
    throw invalidParams(`query: expected an object {"condition": [...]}, got ${describeJson(query)}`);
  }
  return parseConditions((query as Record<string, unknown>).condition);
}

/** A walk's selection, and its conditions as sent, to which its cursors are bound. */
export interface PageSelection extends Selection {
  conditionsText: string;
}

/** A walk has no cap: `limit` and `last` are refused, naming their position. */
export function parsePageQuery(query: unknown): PageSelection {
  const selection = parseQuery(query);
  const conditions = (query as { condition: unknown[] }).condition;
  if (selection.limit !== undefined) {
    const at = firstCap(conditions)!.at;
    throw invalidParams(`query.condition[${at}]: limit and last are not allowed in js-result_page, which walks every match; use page_size`);
  }
  return { ...selection, conditionsText: stringifyJson(conditions) };
}

/** Absent or null: whole records. Otherwise a non-empty list of distinct record field names. */
export function parseFields(raw: unknown): RecordField[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  const form = `a non-empty array of distinct record fields (${RECORD_FIELDS.join(', ')})`;
  if (!Array.isArray(raw) || raw.length === 0) throw invalidParams(`fields: expected ${form}, got ${describeJson(raw)}`);
  raw.forEach((field, i) => {
    if (!RECORD_FIELDS.includes(field as RecordField)) throw invalidParams(`fields[${i}]: expected one of ${RECORD_FIELDS.join(', ')}, got ${describeJson(field)}`);
    if (raw.indexOf(field) !== i) throw invalidParams(`fields[${i}]: ${describeJson(field)} is repeated`);
  });
  return raw as RecordField[];
}

function parsePageSize(raw: unknown): number {
  if (raw === undefined || raw === null) return DEFAULT_PAGE_SIZE;
  if (typeof raw === 'number' && Number.isInteger(raw) && raw >= 1 && raw <= MAX_PAGE_SIZE) return raw;
  throw invalidParams(`page_size: expected an integer from 1 to ${MAX_PAGE_SIZE}, got ${describeJson(raw)}`);
}

function parseCursor(raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string') return raw;
  throw invalidParams(`cursor: expected the next_cursor string of the previous page, or null, got ${describeJson(raw)}`);
}

/**
 * Params of `js-result_query` and `js-result_delete`. The token comes last:
 * a call with bad params and a bad token is reported as bad params.
 */
export class JsResultParams implements WithToken {
  @Positional(1)
  @ParsedBy(parseQuery, 'query')
  selection: Selection;

  @Positional(0)
  @TokenParam()
  token: string;
}

/** `js-result_query`: the shared params and an optional projection (declared anew, so the token stays last). */
export class JsResultQueryParams implements WithToken {
  @Positional(1)
  @ParsedBy(parseQuery, 'query')
  selection: Selection;

  @Positional(2)
  @ParsedBy(parseFields)
  fields?: RecordField[];

  @Positional(0)
  @TokenParam()
  token: string;
}

/** `js-result_page`, checked in this order, the token last. */
export class JsResultPageParams implements WithToken {
  @Positional(1)
  @ParsedBy(parsePageQuery, 'query')
  selection: PageSelection;

  @Positional(2)
  @ParsedBy(parseCursor)
  cursor?: string;

  @Positional(3)
  @ParsedBy(parsePageSize, 'page_size')
  pageSize: number;

  @Positional(4)
  @ParsedBy(parseFields)
  fields?: RecordField[];

  @Positional(0)
  @TokenParam()
  token: string;
}
