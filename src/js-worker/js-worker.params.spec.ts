import type { ClassConstructor } from 'class-transformer';
import { DomainError, DomainErrorCode } from '../common/domain.error';
import type { NamedParams } from '../json-rpc/rpc-call';
import { validateParams } from '../json-rpc/rpc-params.validator';
import {
  CreateWorkerParamsDto,
  ListWorkersParamsDto,
  NamedWorkerParamsDto,
  RunConsoleParamsDto,
  RunWorkerParamsDto,
  UpdateWorkerParamsDto,
} from './js-worker.params';

function invalid(message: string): DomainError {
  return new DomainError(DomainErrorCode.InvalidParams, message);
}

/** The params as RpcParamsGuard hands them to the handler. */
function validatorOf<T extends object>(dtoClass: ClassConstructor<T>): (params: NamedParams) => T {
  return (params) => validateParams(dtoClass, params);
}

/** A param, a malformed value for it, and what the caller is told. */
type BadParam = [wireName: string, value: unknown, message: string];

/**
 * Sends every bad param at once, then mends them one at a time: each time,
 * the first one left in the contract's order must be the one reported.
 */
function expectCheckedInOrder(sut: (params: NamedParams) => object, valid: NamedParams, badParams: BadParam[]): void {
  const params: NamedParams = { ...valid, ...Object.fromEntries(badParams.map(([name, value]) => [name, value])) };
  for (const [name, , message] of badParams) {
    expect(() => sut(params)).toThrow(invalid(message));
    expect(() => sut(params)).toThrow(expect.objectContaining({ code: DomainErrorCode.InvalidParams }));
    params[name] = valid[name];
  }
  expect(() => sut(params)).not.toThrow();
}

const BAD_TOKEN: BadParam = ['token', 5, 'token: expected a string "key:secret" or "username|password", got 5'];

/** A create call that gave only the required params, as the DTO holds it. */
const CREATED_WITH_DEFAULTS = {
  token: 'k:s',
  name: 'w',
  description: null,
  scriptBase64: 'ZQ==',
  env: {},
  limits: { maxRunTime: undefined, maxStackSize: undefined, maxHeapSize: undefined },
};

describe(CreateWorkerParamsDto.name, () => {
  const sut = validatorOf(CreateWorkerParamsDto);
  const base = { token: 'k:s', name: 'w', js_script_base64: 'ZQ==' };

  it('fills the optional fields with their defaults', () => {
    expect(sut(base)).toEqual(CREATED_WITH_DEFAULTS);
  });

  it("keeps NodeGet's route name and cleanup time as sent, for the service to check", () => {
    expect(sut({ ...base, route_name: ' r ', runtime_clean_time: 120_000 })).toEqual({ ...CREATED_WITH_DEFAULTS, routeName: ' r ', runtimeCleanTime: 120_000 });
    expect(sut({ ...base, route_name: null, runtime_clean_time: null })).toEqual({ ...CREATED_WITH_DEFAULTS, routeName: null, runtimeCleanTime: null });
  });

  it('checks the route name and cleanup time after the script, before the env', () => {
    expectCheckedInOrder(sut, base, [
      ['js_script_base64', 1, 'js_script_base64: expected the script as a base64 string, got 1'],
      ['route_name', ['r'], 'route_name: expected a string or null, got ["r"]'],
      ['runtime_clean_time', 1.5, 'runtime_clean_time: expected an integer (milliseconds) or null, got 1.5'],
      ['env', 'x', 'env: expected a JSON object such as {"API_URL": "..."}, got "x"'],
      BAD_TOKEN,
    ]);
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

  it('checks the params in the order of the contract, the token last', () => {
    expectCheckedInOrder(sut, base, [
      ['name', 5, 'name: expected a worker name (a string), got 5'],
      ['description', 5, 'description: expected a string or null, got 5'],
      ['js_script_base64', 5, 'js_script_base64: expected the script as a base64 string, got 5'],
      ['env', 5, 'env: expected a JSON object such as {"API_URL": "..."}, got 5'],
      ['max_run_time', 0.5, 'max_run_time: expected an integer (milliseconds) or null for the default, got 0.5'],
      ['max_stack_size', '1', 'max_stack_size: expected an integer (bytes) or null for the default, got "1"'],
      ['max_heap_size', true, 'max_heap_size: expected an integer (bytes) or null for the default, got true'],
      BAD_TOKEN,
    ]);
  });

  it('treats a null description and env as absent, and ignores unknown params', () => {
    expect(sut({ ...base, description: null, env: null, limits: { max_run_time: 1 }, extra: 1 })).toEqual(CREATED_WITH_DEFAULTS);
  });
});

const NOTHING_TO_CHANGE =
  'expected at least one field to change: description, js_script_base64, env, max_run_time, max_stack_size, max_heap_size, route_name, runtime_clean_time';

describe(UpdateWorkerParamsDto.name, () => {
  const sut = validatorOf(UpdateWorkerParamsDto);

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
      invalid(NOTHING_TO_CHANGE),
    );
  });

  it('checks the name, then that something changes, then the fields, the token last', () => {
    expect(() => sut({ token: 5, name: 5 })).toThrow(invalid('name: expected a worker name (a string), got 5'));
    expect(() => sut({ token: 5, name: 'w' })).toThrow(
      invalid(NOTHING_TO_CHANGE),
    );
    expectCheckedInOrder(sut, { token: 't', name: 'w', description: 'd' }, [
      ['js_script_base64', null, 'js_script_base64: expected the script as a base64 string, got null'],
      ['max_run_time', 0.5, 'max_run_time: expected an integer (milliseconds) or null for the default, got 0.5'],
      ['max_stack_size', '1', 'max_stack_size: expected an integer (bytes) or null for the default, got "1"'],
      ['max_heap_size', true, 'max_heap_size: expected an integer (bytes) or null for the default, got true'],
      ['description', 5, 'description: expected a string or null, got 5'],
      ['env', [1], 'env: expected a JSON object such as {"API_URL": "..."}, got [1]'],
      ['route_name', 5, 'route_name: expected a string or null, got 5'],
      ['runtime_clean_time', '1s', 'runtime_clean_time: expected an integer (milliseconds) or null, got "1s"'],
      BAD_TOKEN,
    ]);
  });

  it('takes a route name or a cleanup time alone as a change; null clears them', () => {
    expect(sut({ token: 't', name: 'w', route_name: 'r' })).toMatchObject({ routeName: 'r', runtimeCleanTime: undefined });
    expect(sut({ token: 't', name: 'w', runtime_clean_time: null })).toMatchObject({ routeName: undefined, runtimeCleanTime: null });
  });

  it('counts a malformed field as a change, so that its own error is reported', () => {
    expect(() => sut({ token: 't', name: 'w', env: 'A=1' })).toThrow(
      invalid('env: expected a JSON object such as {"API_URL": "..."}, got "A=1"'),
    );
  });

  it('keeps each given field', () => {
    expect(sut({ token: 't', name: 'w', js_script_base64: 'ZQ==', description: 'd', env: { A: 1 }, max_run_time: 2n ** 40n })).toEqual({
      token: 't',
      name: 'w',
      scriptBase64: 'ZQ==',
      description: 'd',
      env: { A: 1 },
      limits: { maxRunTime: 2n ** 40n, maxStackSize: undefined, maxHeapSize: undefined },
    });
  });
});

describe(RunWorkerParamsDto.name, () => {
  const sut = validatorOf(RunWorkerParamsDto);

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
    ['an unknown run_type', { run_type: 'later' }, 'run_type: expected "call", "cron" or "route", got "later"'],
    ['route without a request', { run_type: 'route' }, 'params: expected {"url": "https://host/path", "method": "GET", "headers": [{"name": "...", "value": "..."}], "body_base64": "..."} for run_type "route", got nothing'],
    ['route with a relative url', { run_type: 'route', params: { url: '/x' } }, 'params.url: expected an absolute http(s) URL, got "/x"'],
    ['route with a bad method', { run_type: 'route', params: { url: 'http://h/', method: 'GE T' } }, 'params.method: expected an HTTP method such as "GET", got "GE T"'],
    [
      'route with a header value holding a line break',
      { run_type: 'route', params: { url: 'http://h/', headers: [{ name: 'a', value: 'b\r\nc: d' }] } },
      'params.headers[0].value: expected a header value (text without line breaks), got "b\\r\\nc: d"',
    ],
    ['route with a body that is not base64', { run_type: 'route', params: { url: 'http://h/', body_base64: 'a b' } }, 'params.body_base64: expected the body as a base64 string, got "a b"'],
    ['route with both body forms', { run_type: 'route', params: { url: 'http://h/', body_base64: '', body_bytes: [1] } }, 'params.body_bytes: give the body as body_base64 or as body_bytes, not both'],
    ['a missing worker name', { js_script_name: undefined }, 'js_script_name: expected a worker name (a string), got nothing'],
    ['an env that is not an object', { env: 1 }, 'env: expected a JSON object such as {"API_URL": "..."}, got 1'],
  ])('refuses %s', (_label, override, message) => {
    expect(() => sut({ token: 't', js_script_name: 'w', ...override })).toThrow(invalid(message));
  });

  it('checks the params in the order of the contract, the token last', () => {
    expectCheckedInOrder(sut, { token: 't', js_script_name: 'w' }, [
      ['js_script_name', 5, 'js_script_name: expected a worker name (a string), got 5'],
      ['run_type', 'later', 'run_type: expected "call", "cron" or "route", got "later"'],
      ['env', 1, 'env: expected a JSON object such as {"API_URL": "..."}, got 1'],
      BAD_TOKEN,
    ]);
  });

  it('treats a null run_type as call and a null env as none; params stay exactly as sent', () => {
    const params = { big: 2n ** 63n - 1n, list: [null] };
    const parsed = sut({ token: 't', js_script_name: 'w', run_type: null, env: null, params });
    expect(parsed).toEqual({ token: 't', name: 'w', runType: 'call', params });
    expect(parsed.params).toBe(params);
    expect(parsed.env).toBeUndefined();
  });
});

describe(NamedWorkerParamsDto.name, () => {
  const sut = validatorOf(NamedWorkerParamsDto);

  it('needs a name and a token', () => {
    expect(sut({ token: 't', name: 'w' })).toEqual({ token: 't', name: 'w' });
    expect(() => sut({ token: 't' })).toThrow(invalid('name: expected a worker name (a string), got nothing'));
  });

  it('checks the name before the token', () => {
    expectCheckedInOrder(sut, { token: 't', name: 'w' }, [['name', 5, 'name: expected a worker name (a string), got 5'], BAD_TOKEN]);
  });
});

describe(ListWorkersParamsDto.name, () => {
  const sut = validatorOf(ListWorkersParamsDto);

  it('needs a token', () => {
    expect(sut({ token: 't' })).toEqual({ token: 't' });
    expect(() => sut({})).toThrow(invalid('token: expected a string "key:secret" or "username|password", got nothing'));
  });
});

describe(RunConsoleParamsDto.name, () => {
  const sut = validatorOf(RunConsoleParamsDto);

  it('takes a 64-bit id', () => {
    expect(sut({ token: 't', id: 7 })).toEqual({ token: 't', id: 7 });
    expect(sut({ token: 't', id: 2n ** 63n - 1n })).toEqual({ token: 't', id: 2n ** 63n - 1n });
  });

  it.each([['a string', '7'], ['a fraction', 1.5], ['a number past 64 bits', 2n ** 63n], ['nothing', undefined]])('refuses %s', (_label, id) => {
    expect(() => sut({ token: 't', id })).toThrow(DomainError);
  });

  it('names the id and what it got, before the token', () => {
    expect(sut({ token: 't', id: -(2n ** 63n) })).toEqual({ token: 't', id: -(2n ** 63n) });
    expectCheckedInOrder(sut, { token: 't', id: 7 }, [
      ['id', 1.5, 'id: expected the js_result id (a 64-bit signed integer), got 1.5'],
      BAD_TOKEN,
    ]);
    expect(() => sut({ token: 't', id: '7' })).toThrow(invalid('id: expected the js_result id (a 64-bit signed integer), got "7"'));
  });
});
