import { jsonDepth, MAX_RESULT_DEPTH, resultDepthError } from './result-depth';

describe(jsonDepth.name, () => {
  const sut = jsonDepth;

  it.each([
    ['a scalar', '12', 0],
    ['a string', '"x"', 0],
    ['an empty array', '[]', 1],
    ['siblings, not nesting', '[[1],[2],{"a":[3]}]', 3],
    ['mixed objects and arrays', '{"a":{"b":[{"c":[]}]}}', 5],
    ['brackets inside strings', '["[[[{{{", "]]]}}}"]', 1],
    ['escaped quotes and backslashes inside strings', '["\\"[[", "\\\\", ["x"]]', 2],
  ])('measures %s', (_, json, depth) => {
    expect(sut(json)).toBe(depth);
  });

  it('measures nesting far deeper than any recursive walk could', () => {
    const depth = 1_000_000;

    expect(sut('['.repeat(depth) + ']'.repeat(depth))).toBe(depth);
  });
});

describe(resultDepthError.name, () => {
  const sut = resultDepthError;

  it(`accepts ${MAX_RESULT_DEPTH} levels`, () => {
    expect(sut('['.repeat(MAX_RESULT_DEPTH) + ']'.repeat(MAX_RESULT_DEPTH))).toBeUndefined();
  });

  it('refuses one more, naming the depth and the limit', () => {
    const depth = MAX_RESULT_DEPTH + 1;

    expect(sut('{"a":'.repeat(depth - 1) + '[]' + '}'.repeat(depth - 1))).toBe(
      `result is nested ${depth} levels deep; at most ${MAX_RESULT_DEPTH} levels of arrays and objects can be stored`,
    );
  });
});
