import { isNestedDeeperThan, jsonDepth } from './json-depth';

describe(isNestedDeeperThan.name, () => {
  const sut = isNestedDeeperThan;
  const arrays = (levels: number): unknown => JSON.parse('['.repeat(levels) + ']'.repeat(levels));
  const objects = (levels: number): unknown => JSON.parse('{"a":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1));

  it.each([
    ['a scalar', 'x', 0],
    ['null', null, 0],
    ['an empty array', [], 1],
    ['an object holding an array', { a: [1, 2] }, 2],
    ['a deep branch beside shallow ones', [1, [2], [[[3]]], { b: 'c' }], 4],
  ])('measures %s as %i levels', (_label, value, levels) => {
    expect(sut(value, levels)).toBe(false);
    if (levels > 0) expect(sut(value, levels - 1)).toBe(true);
  });

  it('walks 100,000 levels of arrays or objects without recursion', () => {
    expect(sut(arrays(100_000), 1000)).toBe(true);
    expect(sut(objects(100_000), 1000)).toBe(true);
    expect(sut(arrays(1000), 1000)).toBe(false);
    expect(sut(objects(1001), 1000)).toBe(true);
  });
});

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
