import { DomainError, DomainErrorCode } from '../../common/domain.error';
import { firstCap, parseConditions } from './condition.parser';

function errorOf(raw: unknown): DomainError {
  try {
    parseConditions(raw);
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error('expected parseConditions to throw');
}

describe(parseConditions.name, () => {
  const sut = parseConditions;

  it('parses every condition of the contract into its typed form', () => {
    const selection = sut([
      { id: 1 },
      { js_worker_id: 2 },
      { js_worker_name: 'w' },
      { run_type: 'cron' },
      { start_time_from_to: [3, 4] },
      { start_time_from: 5 },
      { start_time_to: 6 },
      { finish_time_from_to: [7, 8] },
      { finish_time_from: 9 },
      { finish_time_to: 10 },
      'is_success',
      'is_failure',
      'is_running',
      { limit: 11 },
    ]);
    expect(selection.filters).toEqual([
      { kind: 'id', value: 1n },
      { kind: 'js_worker_id', value: 2n },
      { kind: 'js_worker_name', value: 'w' },
      { kind: 'run_type', value: 'cron' },
      { kind: 'start_time_from', value: 3n },
      { kind: 'start_time_to', value: 4n },
      { kind: 'start_time_from', value: 5n },
      { kind: 'start_time_to', value: 6n },
      { kind: 'finish_time_from', value: 7n },
      { kind: 'finish_time_to', value: 8n },
      { kind: 'finish_time_from', value: 9n },
      { kind: 'finish_time_to', value: 10n },
      { kind: 'is_success' },
      { kind: 'is_failure' },
      { kind: 'is_running' },
    ]);
    expect(selection.limit).toBe(11);
    expect(selection.conditionCount).toBe(14);
    expect(selection.namedWorkers).toEqual(['w']);
  });

  it('lets last win over any limit, and the last limit win over earlier ones', () => {
    expect(sut([{ limit: 0 }, 'last']).limit).toBe(1);
    expect(sut(['last', { limit: 50 }]).limit).toBe(1);
    expect(sut([{ limit: 5 }, { limit: 7 }]).limit).toBe(7);
    expect(sut([{ limit: 0 }]).limit).toBe(0);
    expect(sut([]).limit).toBeUndefined();
  });

  it('cuts limits above 10000, up to the largest unsigned 64-bit value', () => {
    expect(sut([{ limit: 10_001 }]).limit).toBe(10_000);
    expect(sut([{ limit: 2n ** 64n - 1n }]).limit).toBe(10_000);
  });

  it('keeps 64-bit bounds exact', () => {
    const selection = sut([{ start_time_to: 2n ** 63n - 1n }, { id: -(2n ** 63n) }]);
    expect(selection.filters).toEqual([
      { kind: 'start_time_to', value: 2n ** 63n - 1n },
      { kind: 'id', value: -(2n ** 63n) },
    ]);
  });

  it("takes NodeGet's map form of every flag ({\"last\": null}) as the bare string", () => {
    const mapForm = sut([{ js_worker_name: 'w' }, { is_success: null }, { is_failure: null }, { is_running: null }, { limit: 5 }, { last: null }]);
    expect(mapForm).toEqual(sut([{ js_worker_name: 'w' }, 'is_success', 'is_failure', 'is_running', { limit: 5 }, 'last']));
    expect(mapForm.limit).toBe(1);
    expect(mapForm.filters.map((f) => f.kind)).toEqual(['js_worker_name', 'is_success', 'is_failure', 'is_running']);
  });

  it.each([
    [[{ last: 1 }], 'query.condition[0]: "last" is a flag and takes no value; write it as the string "last" or as {"last": null}, got 1'],
    [['is_running', { is_success: false }], 'query.condition[1]: "is_success" is a flag and takes no value; write it as the string "is_success" or as {"is_success": null}, got false'],
    [[{ is_failure: {} }], 'query.condition[0]: "is_failure" is a flag and takes no value'],
    [[{ is_running: [] }], 'query.condition[0]: "is_running" is a flag and takes no value'],
  ])('refuses a flag in map form whose value is not null: %j', (raw, message) => {
    const error = errorOf(raw);
    expect(error.code).toBe(DomainErrorCode.InvalidParams);
    expect(error.message.startsWith(message)).toBe(true);
  });

  it('finds the first limit or last in either form, for the methods that refuse caps', () => {
    expect(firstCap(['is_success', { last: null }, { limit: 3 }])).toEqual({ at: 1, name: 'last' });
    expect(firstCap([{ id: 1 }, { limit: 3 }, 'last'])).toEqual({ at: 1, name: 'limit' });
    expect(firstCap([{ id: 1 }, 'last'])).toEqual({ at: 1, name: 'last' });
    expect(firstCap([{ id: 1 }, 'is_running'])).toBeUndefined();
  });

  it('lists each distinct named worker once', () => {
    expect(sut([{ js_worker_name: 'a' }, { js_worker_name: 'b' }, { js_worker_name: 'a' }]).namedWorkers).toEqual(['a', 'b']);
  });

  it.each([
    ['a number', [5], 'query.condition[0]: expected a flag string'],
    ['null', [null], 'query.condition[0]: expected a flag string'],
    ['an array', [['is_success']], 'query.condition[0]: expected a flag string'],
    ['an empty object', [{}], 'query.condition[0]: expected an object with exactly one key, got 0 keys'],
    ['a two-key object', [{ id: 1, run_type: 'x' }], 'query.condition[0]: expected an object with exactly one key, got 2 keys'],
    ['an unknown name', ['is_done'], 'query.condition[0]: unknown condition "is_done"; expected one of id, js_worker_id'],
    ['an unknown valued name', [{ worker: 'x' }], 'query.condition[0]: unknown condition "worker"'],
    ['a flag with a value', [{ is_running: true }], 'query.condition[0]: "is_running" is a flag and takes no value'],
    ['a valued condition as a bare string', ['limit'], 'query.condition[0]: "limit" needs a value; expected {"limit": <unsigned integer>}'],
    ['a string id', [{ id: '5' }], 'query.condition[0].id: expected a 64-bit signed integer, got "5"'],
    ['a fractional time', ['is_success', { start_time_from: 1.5 }], 'query.condition[1].start_time_from: expected a 64-bit signed integer, got 1.5'],
    ['a negative limit', [{ limit: -1 }], 'query.condition[0].limit: expected an unsigned integer, got -1'],
    ['a limit past u64', [{ limit: 2n ** 64n }], 'query.condition[0].limit: expected an unsigned integer, got 18446744073709551616'],
    ['an id past i64', [{ id: 2n ** 63n }], 'query.condition[0].id: expected a 64-bit signed integer, got 9223372036854775808'],
    ['an unsafe double', [{ id: 1e300 }], 'query.condition[0].id: expected a 64-bit signed integer'],
    ['a numeric worker name', [{ js_worker_name: 5 }], 'query.condition[0].js_worker_name: expected a string, got 5'],
    ['a one-element range', [{ start_time_from_to: [1] }], 'query.condition[0].start_time_from_to: expected a two-element array [from, to]'],
    ['a range that is not an array', [{ finish_time_from_to: 5 }], 'query.condition[0].finish_time_from_to: expected a two-element array'],
    ['a range with a bad bound', [{ finish_time_from_to: [1, 'x'] }], 'query.condition[0].finish_time_from_to[1]: expected a 64-bit signed integer, got "x"'],
    ['a condition that is not an array', { id: 1 }, 'query.condition: expected an array of conditions'],
    ['a missing condition array', undefined, 'query.condition: expected an array of conditions, got nothing'],
  ])('refuses %s, naming the position and the expected form', (_label, raw, message) => {
    const error = errorOf(raw);
    expect(error.code).toBe(DomainErrorCode.InvalidParams);
    expect(error.message.startsWith(message)).toBe(true);
  });
});
