import { invalidParams } from '../../common/domain.error';
import { describeJson } from '../../common/describe-json';
import { type Condition, type Filter, MAX_LIMIT, type Selection } from './condition.types';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

const FLAGS = ['is_success', 'is_failure', 'is_running', 'last'] as const;
type Flag = (typeof FLAGS)[number];

type ValuedName =
  | 'id'
  | 'js_worker_id'
  | 'js_worker_name'
  | 'run_type'
  | 'start_time_from_to'
  | 'start_time_from'
  | 'start_time_to'
  | 'finish_time_from_to'
  | 'finish_time_from'
  | 'finish_time_to'
  | 'limit';

/** How each valued condition is written, for error messages and parsing alike. */
const VALUED: Record<ValuedName, { form: string; parse: (value: unknown, at: string) => Condition[] }> = {
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
  limit: {
    form: '{"limit": <unsigned integer>}',
    parse: (value, at) => [{ kind: 'limit', value: integerIn(value, 0n, UINT64_MAX, 'an unsigned integer', at) }],
  },
};

const KNOWN_NAMES = [...Object.keys(VALUED), ...FLAGS].join(', ');

function integerIn(value: unknown, min: bigint, max: bigint, expected: string, at: string): bigint {
  let integer: bigint | undefined;
  if (typeof value === 'bigint') integer = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) integer = BigInt(value);
  if (integer === undefined || integer < min || integer > max) {
    throw invalidParams(`${at}: expected ${expected}, got ${describeJson(value)}`);
  }
  return integer;
}

function int64Condition(kind: Extract<Condition['kind'], `${string}_from` | `${string}_to` | 'id' | 'js_worker_id'>) {
  return {
    form: `{"${kind}": <64-bit integer>}`,
    parse: (value: unknown, at: string): Condition[] => [
      { kind, value: integerIn(value, INT64_MIN, INT64_MAX, 'a 64-bit signed integer', at) } as Condition,
    ],
  };
}

function stringCondition(kind: 'js_worker_name' | 'run_type') {
  return {
    form: `{"${kind}": "<string>"}`,
    parse: (value: unknown, at: string): Condition[] => {
      if (typeof value !== 'string') throw invalidParams(`${at}: expected a string, got ${describeJson(value)}`);
      return [{ kind, value }];
    },
  };
}

function rangeCondition(
  from: 'start_time_from' | 'finish_time_from',
  to: 'start_time_to' | 'finish_time_to',
  name: string,
) {
  return {
    form: `{"${name}": [<from>, <to>]}`,
    parse: (value: unknown, at: string): Condition[] => {
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

function isFlag(name: string): name is Flag {
  return (FLAGS as readonly string[]).includes(name);
}

function isValuedName(name: string): name is ValuedName {
  return Object.prototype.hasOwnProperty.call(VALUED, name);
}

/**
 * NodeGet's map form of a flag, `{"last": null}`: serde accepts a unit
 * variant so, and NodeGet's dashboard sends it. Only null, as serde.
 */
function parseFlagInMapForm(name: Flag, value: unknown, at: string): Condition {
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

function parseCondition(raw: unknown, at: string): Condition[] {
  if (typeof raw === 'string') {
    if (isFlag(raw)) return [{ kind: raw }];
    if (isValuedName(raw)) throw invalidParams(`${at}: "${raw}" needs a value; expected ${VALUED[raw].form}`);
    throw invalidParams(`${at}: unknown condition "${describeJson(raw).slice(1, -1)}"; expected one of ${KNOWN_NAMES}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw invalidParams(
      `${at}: expected a flag string (${FLAGS.map((f) => `"${f}"`).join(', ')}) or an object with exactly one key, got ${describeJson(raw)}`,
    );
  }
  const keys = Object.keys(raw);
  if (keys.length !== 1) {
    throw invalidParams(`${at}: expected an object with exactly one key, got ${keys.length} keys ${describeJson(raw)}`);
  }
  const name = keys[0];
  const value = (raw as Record<string, unknown>)[name];
  if (isValuedName(name)) return VALUED[name].parse(value, `${at}.${name}`);
  if (isFlag(name)) return [parseFlagInMapForm(name, value, at)];
  throw invalidParams(`${at}: unknown condition "${describeJson(name).slice(1, -1)}"; expected one of ${KNOWN_NAMES}`);
}

/** `last` wins over any `limit`; otherwise the last `limit` counts. */
function effectiveLimit(conditions: Condition[]): number | undefined {
  if (conditions.some((c) => c.kind === 'last')) return 1;
  let limit: bigint | undefined;
  for (const c of conditions) if (c.kind === 'limit') limit = c.value;
  if (limit === undefined) return undefined;
  return limit > BigInt(MAX_LIMIT) ? MAX_LIMIT : Number(limit);
}

/**
 * Turns the client's `condition` array into a Selection, or throws an
 * InvalidParams error naming the first bad condition by position.
 */
export function parseConditions(raw: unknown, path = 'query.condition'): Selection {
  if (!Array.isArray(raw)) {
    throw invalidParams(`${path}: expected an array of conditions, got ${describeJson(raw)}`);
  }
  const conditions = raw.flatMap((item, index) => parseCondition(item, `${path}[${index}]`));
  const filters = conditions.filter((c): c is Filter => c.kind !== 'limit' && c.kind !== 'last');
  const namedWorkers = [
    ...new Set(filters.flatMap((c) => (c.kind === 'js_worker_name' ? [c.value] : []))),
  ];
  return { filters, namedWorkers, limit: effectiveLimit(conditions), conditionCount: raw.length };
}
