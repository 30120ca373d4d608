import { DomainError, DomainErrorCode } from '../common/domain.error';
import { MAX_JSON_DEPTH } from '../common/json-depth';
import { checkLimit, checkStorable, checkWorkerName, decodeScript, MAX_SCRIPT_BYTES, runLimits } from './js-worker.rules';
import { DEFAULT_LIMITS, LIMIT_BOUNDS } from './runtime';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect((error as { code?: unknown }).code).toBe(DomainErrorCode.NotAcceptable);
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

describe(checkWorkerName.name, () => {
  const sut = checkWorkerName;

  it('accepts 1 to 255 characters, counting code points', () => {
    expect(() => sut('a')).not.toThrow();
    expect(() => sut('w'.repeat(255))).not.toThrow();
    expect(() => sut('😀'.repeat(255))).not.toThrow();
    expect(() => sut('demo_%?.名前')).not.toThrow();
  });

  it.each([
    ['', 'name: must be 1 to 255 characters, got 0'],
    ['x'.repeat(256), 'name: must be 1 to 255 characters, got 256'],
    ['demo*', "name: must not contain '*' (it is the wildcard of token scopes)"],
    ['a\nb', 'name: must not contain control characters'],
    ['a\u0000b', 'name: must not contain control characters'],
  ])('refuses %j', (name, message) => {
    expect(refusal(() => sut(name))).toBe(message);
  });
});

describe(decodeScript.name, () => {
  const sut = decodeScript;

  it('decodes padded and unpadded base64 of UTF-8 text', () => {
    expect(sut(b64('export default {} // é'))).toBe('export default {} // é');
    expect(sut(b64('ab').replace(/=+$/, ''))).toBe('ab');
    expect(sut('')).toBe('');
  });

  it.each([
    ['URL-safe characters', b64('??>>').replace(/\//g, '_').replace(/\+/g, '-')],
    ['whitespace', 'ZXhw\nb3J0'],
    ['a stray character', 'ZXh*'],
    ['padding in the middle', 'ZQ==ZQ=='],
    ['an impossible length', 'ZXhwb'],
    ['padding with a wrong length', 'ZQ='],
  ])('refuses %s', (_label, input) => {
    expect(refusal(() => sut(input))).toMatch(/^js_script_base64: not valid base64/);
  });

  it('refuses bytes that are not UTF-8, and NUL characters', () => {
    expect(refusal(() => sut(Buffer.from([0xc3, 0x28]).toString('base64')))).toBe(
      'js_script_base64: the decoded script is not valid UTF-8 text',
    );
    expect(refusal(() => sut(b64('a\u0000b')))).toBe('js_script_base64: the script must not contain the NUL character');
  });

  it('refuses a script over the size cap', () => {
    expect(refusal(() => sut(b64('x'.repeat(MAX_SCRIPT_BYTES + 1))))).toBe(
      `js_script_base64: the script is ${MAX_SCRIPT_BYTES + 1} bytes; at most ${MAX_SCRIPT_BYTES} are accepted`,
    );
  });
});

describe(checkLimit.name, () => {
  const sut = checkLimit;

  it('passes values within the bounds, null and undefined through', () => {
    expect(sut('maxRunTime', LIMIT_BOUNDS.maxRunTimeMs.max)).toBe(LIMIT_BOUNDS.maxRunTimeMs.max);
    expect(sut('maxHeapSize', BigInt(LIMIT_BOUNDS.maxHeapBytes.min))).toBe(LIMIT_BOUNDS.maxHeapBytes.min);
    expect(sut('maxStackSize', null)).toBeNull();
    expect(sut('maxStackSize', undefined)).toBeUndefined();
  });

  it('names the bounds when refusing', () => {
    expect(refusal(() => sut('maxRunTime', 0))).toBe(`max_run_time: must be between 1 and ${LIMIT_BOUNDS.maxRunTimeMs.max} ms, got 0`);
    expect(refusal(() => sut('maxStackSize', -1))).toBe(
      `max_stack_size: must be between ${LIMIT_BOUNDS.maxStackBytes.min} and ${LIMIT_BOUNDS.maxStackBytes.max} bytes, got -1`,
    );
    expect(refusal(() => sut('maxHeapSize', 2n ** 64n))).toContain('max_heap_size: must be between');
  });
});

describe(runLimits.name, () => {
  it('uses the worker’s limits and the defaults for the rest', () => {
    expect(runLimits({ maxRunTime: 300, maxStackSize: null, maxHeapSize: null })).toEqual({
      maxRunTimeMs: 300,
      maxStackBytes: DEFAULT_LIMITS.maxStackBytes,
      maxHeapBytes: DEFAULT_LIMITS.maxHeapBytes,
    });
  });
});

describe(checkStorable.name, () => {
  const sut = checkStorable;

  it('refuses with 108 naming where U+0000 or an unpaired surrogate is, in strings and member names at any depth taken', () => {
    let deep: unknown = 'x\u0000';
    for (let i = 0; i < MAX_JSON_DEPTH; i++) deep = [deep];
    const refusal = (value: unknown) => {
      try {
        sut('params', value);
        return undefined;
      } catch (error) {
        return error instanceof DomainError ? { code: error.code, message: error.message } : error;
      }
    };
    expect(refusal(deep)).toEqual({ code: DomainErrorCode.NotAcceptable, message: `params${'[0]'.repeat(MAX_JSON_DEPTH)}: contains a NUL character (U+0000), which cannot be stored` });
    expect(refusal({ s: 'a\ud800' })).toEqual({ code: DomainErrorCode.NotAcceptable, message: 'params.s: contains an unpaired surrogate (U+D800), which cannot be stored' });
    expect(refusal({ ['k\u0000']: 1 })).toEqual({
      code: DomainErrorCode.NotAcceptable,
      message: 'params: the member name "k\\u0000" contains a NUL character (U+0000), which cannot be stored',
    });
  });

  it(`refuses with 108 a value nested deeper than ${MAX_JSON_DEPTH} levels, as a result may not be`, () => {
    const nested = (levels: number) => JSON.parse('['.repeat(levels) + ']'.repeat(levels));
    expect(() => sut('params', nested(50_000))).toThrow(
      new DomainError(DomainErrorCode.NotAcceptable, `params: nested more than ${MAX_JSON_DEPTH} levels deep; at most ${MAX_JSON_DEPTH} levels of arrays and objects are accepted`),
    );
    expect(() => sut('params', nested(MAX_JSON_DEPTH))).not.toThrow();
  });

  it('lets storable values through, emoji and long arrays included', () => {
    expect(() => sut('params', { a: [1, 'b', { c: null }], e: '\u{1F600}' })).not.toThrow();
    expect(() => sut('params', new Array(200_000).fill('a'))).not.toThrow();
    expect(() => sut('params', undefined)).not.toThrow();
  });
});
