import { findUnstorableValue, isStorableText, toStorableText, unstorableCharacter } from './storable-text';

describe(unstorableCharacter.name, () => {
  it.each([
    ['plain text', 'héllo wörld', undefined],
    ['a surrogate pair (an emoji)', 'ok \u{1F600}', undefined],
    ['U+0000', 'a\u0000b', 'a NUL character (U+0000)'],
    ['a lone high surrogate', 'a\ud83db', 'an unpaired surrogate (U+D83D)'],
    ['a lone low surrogate', '\ude00', 'an unpaired surrogate (U+DE00)'],
    ['a pair in the wrong order', '\ude00\ud83d', 'an unpaired surrogate (U+DE00)'],
  ])('%s', (_label, text, expected) => {
    expect(unstorableCharacter(text)).toBe(expected);
    expect(isStorableText(text)).toBe(expected === undefined);
  });
});

describe(toStorableText.name, () => {
  const sut = toStorableText;

  it.each([
    ['keeps storable text, pairs included', 'ok \u{1F600} é', 'ok \u{1F600} é'],
    ['replaces every U+0000', 'a\u0000b\u0000', 'a\ufffdb\ufffd'],
    ['replaces lone halves, leaving a pair beside them whole', '\ud800\u{1F600}\ude00x', '\ufffd\u{1F600}\ufffdx'],
  ])('%s', (_label, text, expected) => {
    expect(sut(text)).toBe(expected);
    expect(isStorableText(sut(text))).toBe(true);
  });
});

describe(findUnstorableValue.name, () => {
  const sut = findUnstorableValue;

  it('is undefined for storable values of every JSON kind', () => {
    expect(sut({ a: ['x', 1, null, true, { 'ü': 'y' }], b: 12n }, 'p')).toBeUndefined();
  });

  it('names a number JSON.parse read as Infinity, whose text was beyond a double', () => {
    const value = JSON.parse('{"ok": [1e308, -0, 5], "limits": [{"n": -1e400}], "later": 1e400}');
    expect(sut(value, 'p')).toBe('p.limits[0].n: a number beyond the range of a double (read as -Infinity), which cannot be stored');
    expect(sut(JSON.parse('1e400'), 'keep_days')).toBe('keep_days: a number beyond the range of a double (read as Infinity), which cannot be stored');
  });

  it('names the first place in document order, never the text itself', () => {
    const value = [{ limit: 1 }, 'last', { js_worker_name: 'top\u0000secret' }, { js_worker_name: '\ud800' }];
    expect(sut(value, 'condition')).toBe('condition[2].js_worker_name: contains a NUL character (U+0000), which cannot be stored');
  });

  it('checks member names, quoting those that are not identifiers', () => {
    expect(sut({ ok: 1, 'A\u0000': 'v' }, 'env')).toBe('env: the member name "A\\u0000" contains a NUL character (U+0000), which cannot be stored');
    expect(sut({ 'a b': ['\ud800'] }, 'params')).toBe('params["a b"][0]: contains an unpaired surrogate (U+D800), which cannot be stored');
  });

  it('walks any depth without exhausting the stack', () => {
    let deep: unknown = 'x\u0000';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(sut(deep, 'p')).toMatch(/^p(\[0\]){100000}: contains a NUL character/);
  });
});
