import { DomainError, DomainErrorCode } from '../common/domain.error';
import {
  parseCreateParams,
  parseNamedParams,
  parseRunConsoleParams,
  parseRunParams,
  parseUpdateParams,
} from './js-worker.params';

function invalid(message: string): DomainError {
  return new DomainError(DomainErrorCode.InvalidParams, message);
}

describe(parseCreateParams.name, () => {
  const sut = parseCreateParams;
  const base = { token: 'k:s', name: 'w', js_script_base64: 'ZQ==' };

  it('fills the optional fields with their defaults', () => {
    expect(sut(base)).toEqual({
      token: 'k:s',
      name: 'w',
      description: null,
      scriptBase64: 'ZQ==',
      env: {},
      limits: { maxRunTime: undefined, maxStackSize: undefined, maxHeapSize: undefined },
    });
  });

  it('keeps the given fields, null limits meaning the default', () => {
    const parsed = sut({ ...base, description: 'd', env: { A: 1 }, max_run_time: 500, max_stack_size: null, max_heap_size: 2n ** 40n });
    expect(parsed).toMatchObject({ description: 'd', env: { A: 1 }, limits: { maxRunTime: 500, maxStackSize: null, maxHeapSize: 2n ** 40n } });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a missing name', { name: undefined }, 'name: expected a worker name (a string), got nothing'],
    ['a numeric name', { name: 3 }, 'name: expected a worker name (a string), got 3'],
    ['a missing script', { js_script_base64: undefined }, 'js_script_base64: expected the script as a base64 string, got nothing'],
    ['a numeric description', { description: 5 }, 'description: expected a string or null, got 5'],
    ['an env array', { env: [1] }, 'env: expected a JSON object such as {"API_URL": "..."}, got [1]'],
    ['an env string', { env: 'A=1' }, 'env: expected a JSON object such as {"API_URL": "..."}, got "A=1"'],
    ['a fractional limit', { max_run_time: 0.5 }, 'max_run_time: expected an integer (milliseconds) or null for the default, got 0.5'],
    ['a string limit', { max_heap_size: '1' }, 'max_heap_size: expected an integer (bytes) or null for the default, got "1"'],
    ['a boolean limit', { max_stack_size: true }, 'max_stack_size: expected an integer (bytes) or null for the default, got true'],
  ])('refuses %s', (_label, override, message) => {
    expect(() => sut({ ...base, ...override })).toThrow(invalid(message));
  });

  it('checks params before the token', () => {
    expect(() => sut({ ...base, token: 5, name: 5 })).toThrow(invalid('name: expected a worker name (a string), got 5'));
    expect(() => sut({ ...base, token: 5 })).toThrow(
      invalid('token: expected a string "key:secret" or "username|password", got 5'),
    );
  });
});

describe(parseUpdateParams.name, () => {
  const sut = parseUpdateParams;

  it('keeps only the fields given; null clears the description and the env', () => {
    expect(sut({ token: 't', name: 'w', max_heap_size: null })).toEqual({
      token: 't',
      name: 'w',
      limits: { maxRunTime: undefined, maxStackSize: undefined, maxHeapSize: null },
    });
    expect(sut({ token: 't', name: 'w', description: null, env: null })).toMatchObject({ description: null, env: {} });
  });

  it('refuses a call that changes nothing', () => {
    expect(() => sut({ token: 't', name: 'w', new_name: 'x' })).toThrow(
      invalid('expected at least one field to change: description, js_script_base64, env, max_run_time, max_stack_size, max_heap_size'),
    );
  });
});

describe(parseRunParams.name, () => {
  const sut = parseRunParams;

  it('defaults run_type to call and passes params through untouched', () => {
    expect(sut({ token: 't', js_script_name: 'w' })).toEqual({ token: 't', name: 'w', runType: 'call', params: undefined });
    expect(sut({ token: 't', js_script_name: 'w', run_type: 'cron', params: [1], env: { A: 'b' } })).toEqual({
      token: 't',
      name: 'w',
      runType: 'cron',
      params: [1],
      env: { A: 'b' },
    });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an unknown run_type', { run_type: 'route' }, 'run_type: expected "call" or "cron", got "route"'],
    ['a missing worker name', { js_script_name: undefined }, 'js_script_name: expected a worker name (a string), got nothing'],
    ['an env that is not an object', { env: 1 }, 'env: expected a JSON object such as {"API_URL": "..."}, got 1'],
  ])('refuses %s', (_label, override, message) => {
    expect(() => sut({ token: 't', js_script_name: 'w', ...override })).toThrow(invalid(message));
  });
});

describe(parseNamedParams.name, () => {
  it('needs a name and a token', () => {
    expect(parseNamedParams({ token: 't', name: 'w' })).toEqual({ token: 't', name: 'w' });
    expect(() => parseNamedParams({ token: 't' })).toThrow(invalid('name: expected a worker name (a string), got nothing'));
  });
});

describe(parseRunConsoleParams.name, () => {
  const sut = parseRunConsoleParams;

  it('takes a 64-bit id', () => {
    expect(sut({ token: 't', id: 7 })).toEqual({ token: 't', id: 7 });
    expect(sut({ token: 't', id: 2n ** 63n - 1n })).toEqual({ token: 't', id: 2n ** 63n - 1n });
  });

  it.each([['a string', '7'], ['a fraction', 1.5], ['a number past 64 bits', 2n ** 63n], ['nothing', undefined]])('refuses %s', (_label, id) => {
    expect(() => sut({ token: 't', id })).toThrow(DomainError);
  });
});
