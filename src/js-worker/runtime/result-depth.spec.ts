import { MAX_RESULT_DEPTH, resultDepthError } from './result-depth';

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
