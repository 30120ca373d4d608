import { invalidParams } from '../../common/domain.error';
import { describeJson } from '../../common/describe-json';
import { type Condition, type Filter, MAX_LIMIT, type Selection } from './condition.types';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** How a valued condition is written (for error messages) and turned into its typed form(s). */
export interface ValuedCondition<C> {
  form: string;
  parse: (value: unknown, at: string) => C[];
}

/**
 * The conditions one family of records accepts: the valued ones by name, and
 * the flags. Every family has `{"limit": n}` and `"last"`, parsed and applied
 * alike (see parseConditionList), so a family only names its own filters.
 */
export interface ConditionVocabulary<C extends { kind: string }> {
  valued: Record<string, ValuedCondition<C>>;
  flags: readonly string[];
}

/** The caps every family shares. */
export type Cap = { kind: 'limit'; value: bigint } | { kind: 'last' };

/** A parsed condition list of any family: its filters, the effective cap, the raw length. */
export interface ParsedConditions<F> {
  filters: F[];
  limit?: number;
  conditionCount: number;
}

const LIMIT_CONDITION: ValuedCondition<Cap> = {
  form: '{"limit": <unsigned integer>}',
  parse: (value, at) => [{ kind: 'limit', value: integerIn(value, 0n, UINT64_MAX, 'an unsigned integer', at) }],
};

export function integerIn(value: unknown, min: bigint, max: bigint, expected: string, at: string): bigint {
  let integer: bigint | undefined;
  if (typeof value === 'bigint') integer = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) integer = BigInt(value);
  if (integer === undefined || integer < min || integer > max) {
    throw invalidParams(`${at}: expected ${expected}, got ${describeJson(value)}`);
  }
  return integer;
}

/** `{"<kind>": <64-bit integer>}`. */
export function int64Condition<K extends string>(kind: K): ValuedCondition<{ kind: K; value: bigint }> {
  return {
    form: `{"${kind}": <64-bit integer>}`,
    parse: (value, at) => [{ kind, value: integerIn(value, INT64_MIN, INT64_MAX, 'a 64-bit signed integer', at) }],
  };
}

/** `{"<kind>": "<string>"}`. */
export function stringCondition<K extends string>(kind: K): ValuedCondition<{ kind: K; value: string }> {
  return {
    form: `{"${kind}": "<string>"}`,
    parse: (value, at) => {
      if (typeof value !== 'string') throw invalidParams(`${at}: expected a string, got ${describeJson(value)}`);
      return [{ kind, value }];
    },
  };
}

/** `{"<name>": [<from>, <to>]}`, split into its two bounds, which the contract defines it to be. */
export function rangeCondition<F extends string, T extends string>(
  from: F,
  to: T,
  name: string,
): ValuedCondition<{ kind: F; value: bigint } | { kind: T; value: bigint }> {
  return {
    form: `{"${name}": [<from>, <to>]}`,
    parse: (value, at) => {
      if (!Array.isArray(value) || value.length !== 2) {
        throw invalidParams(
          `${at}: expected a two-element array [from, to] of 64-bit signed integers, got ${describeJson(value)}`,
        );
      }
      const bound = (i: number) => integerIn(value[i], INT64_MIN, INT64_MAX, 'a 64-bit signed integer', `${at}[${i}]`);
      return [
        { kind: from, value: bound(0) },
        { kind: to, value: bound(1) },
      ];
    },
  };
}

/** js-result's conditions (JSRESULT.md §2). */
const JS_RESULT_CONDITIONS: ConditionVocabulary<Condition> = {
  valued: {
    id: int64Condition('id'),
    js_worker_id: int64Condition('js_worker_id'),
    js_worker_name: stringCondition('js_worker_name'),
    run_type: stringCondition('run_type'),
    start_time_from_to: rangeCondition('start_time_from', 'start_time_to', 'start_time_from_to'),
    start_time_from: int64Condition('start_time_from'),
    start_time_to: int64Condition('start_time_to'),
    finish_time_from_to: rangeCondition('finish_time_from', 'finish_time_to', 'finish_time_from_to'),
    finish_time_from: int64Condition('finish_time_from'),
    finish_time_to: int64Condition('finish_time_to'),
  },
  flags: ['is_success', 'is_failure', 'is_running'],
};

/** A family's vocabulary with the shared caps added. */
function withCaps<C extends { kind: string }>(vocabulary: ConditionVocabulary<C>) {
  return {
    valued: { ...vocabulary.valued, limit: LIMIT_CONDITION } as Record<string, ValuedCondition<C | Cap>>,
    flags: [...vocabulary.flags, 'last'],
  };
}

type Vocabulary = ReturnType<typeof withCaps<{ kind: string }>>;

/**
 * NodeGet's map form of a flag, `{"last": null}`: serde accepts a unit
 * variant so, and NodeGet's dashboard sends it. Only null, as serde.
 */
function parseFlagInMapForm(name: string, value: unknown, at: string): { kind: string } {
  if (value === null) return { kind: name };
  throw invalidParams(
    `${at}: "${name}" is a flag and takes no value; write it as the string "${name}" or as {"${name}": null}, got ${describeJson(value)}`,
  );
}

/** Which cap a raw condition is (`"last"`, `{"last": null}`, `{"limit": N}`), if any; for callers that refuse caps. */
function capOf(raw: unknown): 'last' | 'limit' | undefined {
  if (raw === 'last') return 'last';
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  if (Object.prototype.hasOwnProperty.call(raw, 'last')) return 'last';
  if (Object.prototype.hasOwnProperty.call(raw, 'limit')) return 'limit';
  return undefined;
}

/** The first `limit` or `last` of a condition list parseConditions accepted, in either form of `last`. */
export function firstCap(conditions: readonly unknown[]): { at: number; name: 'last' | 'limit' } | undefined {
  const at = conditions.findIndex((c) => capOf(c) !== undefined);
  return at === -1 ? undefined : { at, name: capOf(conditions[at])! };
}

function parseCondition(raw: unknown, at: string, vocabulary: Vocabulary): { kind: string }[] {
  const isFlag = (name: string) => vocabulary.flags.includes(name);
  const isValued = (name: string) => Object.prototype.hasOwnProperty.call(vocabulary.valued, name);
  const known = () => [...Object.keys(vocabulary.valued), ...vocabulary.flags].join(', ');
  if (typeof raw === 'string') {
    if (isFlag(raw)) return [{ kind: raw }];
    if (isValued(raw)) throw invalidParams(`${at}: "${raw}" needs a value; expected ${vocabulary.valued[raw].form}`);
    throw invalidParams(`${at}: unknown condition "${describeJson(raw).slice(1, -1)}"; expected one of ${known()}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw invalidParams(
      `${at}: expected a flag string (${vocabulary.flags.map((f) => `"${f}"`).join(', ')}) or an object with exactly one key, got ${describeJson(raw)}`,
    );
  }
  const keys = Object.keys(raw);
  if (keys.length !== 1) {
    throw invalidParams(`${at}: expected an object with exactly one key, got ${keys.length} keys ${describeJson(raw)}`);
  }
  const name = keys[0];
  const value = (raw as Record<string, unknown>)[name];
  if (isValued(name)) return vocabulary.valued[name].parse(value, `${at}.${name}`);
  if (isFlag(name)) return [parseFlagInMapForm(name, value, at)];
  throw invalidParams(`${at}: unknown condition "${describeJson(name).slice(1, -1)}"; expected one of ${known()}`);
}

/** `last` wins over any `limit`; otherwise the last `limit` counts. */
function effectiveLimit(conditions: readonly { kind: string }[]): number | undefined {
  if (conditions.some((c) => c.kind === 'last')) return 1;
  let limit: bigint | undefined;
  for (const c of conditions) if (c.kind === 'limit') limit = (c as Cap & { kind: 'limit' }).value;
  if (limit === undefined) return undefined;
  return limit > BigInt(MAX_LIMIT) ? MAX_LIMIT : Number(limit);
}

/**
 * Turns a family's `condition` array into its filters and cap, or throws an
 * InvalidParams error naming the first bad condition by position. The rules
 * of JSRESULT.md §2–3 hold for every family: the map form of flags, the last
 * `limit` counts, `last` wins, limits above MAX_LIMIT are cut to it.
 */
export function parseConditionList<C extends { kind: string }>(
  raw: unknown,
  vocabulary: ConditionVocabulary<C>,
  path = 'query.condition',
): ParsedConditions<Exclude<C, Cap>> {
  if (!Array.isArray(raw)) {
    throw invalidParams(`${path}: expected an array of conditions, got ${describeJson(raw)}`);
  }
  const all = withCaps(vocabulary as ConditionVocabulary<{ kind: string }>);
  const conditions = raw.flatMap((item, index) => parseCondition(item, `${path}[${index}]`, all));
  const filters = conditions.filter((c) => c.kind !== 'limit' && c.kind !== 'last') as Exclude<C, Cap>[];
  return { filters, limit: effectiveLimit(conditions), conditionCount: raw.length };
}

/**
 * Turns the client's `condition` array into a Selection, or throws an
 * InvalidParams error naming the first bad condition by position.
 */
export function parseConditions(raw: unknown, path = 'query.condition'): Selection {
  const { filters, limit, conditionCount } = parseConditionList(raw, JS_RESULT_CONDITIONS, path);
  const namedWorkers = [
    ...new Set((filters as Filter[]).flatMap((c) => (c.kind === 'js_worker_name' ? [c.value] : []))),
  ];
  return { filters: filters as Filter[], namedWorkers, limit, conditionCount };
}
