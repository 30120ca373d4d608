import { parseJson, stringifyJson } from './json-rpc.codec';

describe('json-rpc codec', () => {
  it('keeps integers beyond 2^53 exact as BigInt and small ones as numbers', () => {
    const parsed = parseJson('{"a": 9223372036854775807, "b": 12, "c": 1.5, "d": 12345678901234567.5}') as Record<string, unknown>;
    expect(parsed.a).toBe(9223372036854775807n);
    expect(parsed.b).toBe(12);
    expect(parsed.c).toBe(1.5);
    expect(typeof parsed.d).toBe('number');
  });

  it('writes BigInt values as exact JSON numbers', () => {
    expect(stringifyJson({ id: 9007199254740993n, n: 1 })).toBe('{"id":9007199254740993,"n":1}');
    expect(stringifyJson([1, 'x'])).toBe('[1,"x"]');
  });

  it('rejects what is not JSON', () => {
    expect(() => parseJson('{"a":')).toThrow();
    expect(() => parseJson('{"a": 12345678901234567890')).toThrow();
  });
});
