import { MAX_JSON_DEPTH } from '../common/json-depth';
import { parseJson, parseRequestJson, RequestNestedTooDeep, stringifyJson } from './json-rpc.codec';

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

  describe(parseRequestJson.name, () => {
    const sut = parseRequestJson;
    const body = (paramLevels: number, id: string) => `[{"jsonrpc":"2.0","id":${id},"method":"m","params":{"p":${'['.repeat(paramLevels)}${']'.repeat(paramLevels)}}}]`;

    it('takes params nested as deep as allowed with a long integer in the body, keeping it exact', () => {
      const [call] = sut(body(MAX_JSON_DEPTH, '12345678901234567890')) as { id: unknown }[];
      expect(call.id).toBe(12345678901234567890n);
    });

    it('refuses a body holding a long integer and nested past any request, naming its depth, before the recursive parser meets it', () => {
      expect(() => sut(body(100_000, '12345678901234567890'))).toThrow(
        new RequestNestedTooDeep(100_003),
      );
      expect(new RequestNestedTooDeep(100_003).message).toBe(`the body is nested 100003 levels deep; a request nests at most ${MAX_JSON_DEPTH + 3} (params at most ${MAX_JSON_DEPTH})`);
    });

    it('leaves a body without long integers to the native parser, at any depth: its params are refused call by call', () => {
      expect(Array.isArray(sut(body(100_000, '7')))).toBe(true);
    });
  });
});
