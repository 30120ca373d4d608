import { DomainError, DomainErrorCode } from '../common/domain.error';
import { validateParams } from '../json-rpc/rpc-params.validator';
import { JsResultParams } from './js-result.params';

const refusal = (message: string) => new DomainError(DomainErrorCode.InvalidParams, message);

describe(JsResultParams.name, () => {
  const sut = (params: Record<string, unknown>) => validateParams(JsResultParams, params);

  it('turns the condition list into the typed selection once, and keeps the token', () => {
    const params = sut({ token: 'k:s', query: { condition: [{ js_worker_name: 'w' }, 'is_failure', { limit: 5 }] } });
    expect(params).toBeInstanceOf(JsResultParams);
    expect(params.token).toBe('k:s');
    expect(params.selection).toEqual({
      filters: [{ kind: 'js_worker_name', value: 'w' }, { kind: 'is_failure' }],
      namedWorkers: ['w'],
      limit: 5,
      conditionCount: 3,
    });
  });

  it.each([
    ['no query', { token: 'k:s' }, 'query: missing; expected {"condition": [...]}'],
    ['a query that is not an object', { token: 'k:s', query: [1] }, 'query: expected an object {"condition": [...]}, got [1]'],
    ['no condition list', { token: 'k:s', query: {} }, 'query.condition: expected an array of conditions, got nothing'],
    ['a bad condition, by position', { token: 'k:s', query: { condition: ['is_success', { limit: -1 }] } }, 'query.condition[1].limit: expected an unsigned integer, got -1'],
    ['no token', { query: { condition: [] } }, 'token: expected a string "key:secret" or "username|password", got nothing'],
    ['a token that is not a string', { token: 42, query: { condition: [] } }, 'token: expected a string "key:secret" or "username|password", got 42'],
    ['bad params and a bad token: the params first', { token: 42, query: { condition: [{ limit: 'x' }] } }, 'query.condition[0].limit: expected an unsigned integer, got "x"'],
  ])('refuses %s with the message of today', (_label, params, message) => {
    expect(() => sut(params)).toThrow(refusal(message));
  });

  it('keeps 64-bit values exact', () => {
    const params = sut({ token: 'k:s', query: { condition: [{ id: 9223372036854775807n }] } });
    expect(params.selection.filters).toEqual([{ kind: 'id', value: 9223372036854775807n }]);
  });
});
