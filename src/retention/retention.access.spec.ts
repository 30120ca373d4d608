import fc from 'fast-check';
import type { Auth } from '../token/auth';
import { readTokenLimits } from '../token/token-limit';
import { parseWorkerPattern, patternMatches } from '../token/worker-pattern';
import { mayActOnPattern, patternCovers } from './retention.access';

const limited = (raw: unknown): Auth => ({ kind: 'limited', tokenId: 2, tokenKey: 'k2', limits: readTokenLimits(raw) });
const p = parseWorkerPattern;

describe(patternCovers.name, () => {
  const sut = patternCovers;

  it('covers an exact name with any pattern that matches it', () => {
    expect(sut(p('a'), p('a'))).toBe(true);
    expect(sut(p('a*'), p('ab'))).toBe(true);
    expect(sut(p('*'), p('x'))).toBe(true);
    expect(sut(p('b'), p('a'))).toBe(false);
    expect(sut(p('ab*'), p('a'))).toBe(false);
  });

  it('covers a prefix only with a prefix it starts with', () => {
    expect(sut(p('a*'), p('a*'))).toBe(true);
    expect(sut(p('a*'), p('ab*'))).toBe(true);
    expect(sut(p('*'), p('ab*'))).toBe(true);
    expect(sut(p('ab*'), p('a*'))).toBe(false);
    expect(sut(p('b*'), p('ab*'))).toBe(false);
  });

  it('never covers a prefix with an exact name, not even one spelled with the star', () => {
    expect(sut(p('a'), p('a*'))).toBe(false);
    // `a*b` is an exact name (a star elsewhere is literal): it covers itself, not the prefix a*.
    expect(sut(p('a*b'), p('a*'))).toBe(false);
    expect(sut(p('a*'), p('a*b'))).toBe(true);
  });

  it('agrees with matching: whatever the inner pattern matches, a covering pattern matches too', () => {
    const name = fc.string({ unit: fc.constantFrom('a', 'b', '*'), maxLength: 4 });
    const pattern = fc.oneof(name, name.map((n) => `${n}*`));
    fc.assert(
      fc.property(pattern, pattern, fc.array(name, { maxLength: 8 }), (outer, inner, names) => {
        if (!sut(p(outer), p(inner))) return;
        for (const n of [...names, ...(p(inner).kind === 'exact' ? [inner] : [])]) {
          if (patternMatches(p(inner), n)) expect(patternMatches(p(outer), n)).toBe(true);
        }
      }),
    );
  });
});

describe(mayActOnPattern.name, () => {
  const sut = mayActOnPattern;
  const demo = limited([
    { scopes: [{ js_worker: 'demo_*' }], permissions: [{ js_result: { delete: 'demo_*' } }, { js_result: { read: 'demo_x' } }] },
  ]);

  it('lets the super token act on any pattern', () => {
    expect(sut({ kind: 'super', tokenId: 1, tokenKey: 'k' }, 'delete', p('*'))).toBe(true);
  });

  it('needs the scope and the permission both to cover the whole pattern', () => {
    expect(sut(demo, 'delete', p('demo_*'))).toBe(true);
    expect(sut(demo, 'delete', p('demo_a*'))).toBe(true);
    expect(sut(demo, 'delete', p('demo_a'))).toBe(true);
    expect(sut(demo, 'delete', p('demo*'))).toBe(false);
    expect(sut(demo, 'delete', p('*'))).toBe(false);
  });

  it('keeps read and delete apart', () => {
    expect(sut(demo, 'read', p('demo_*'))).toBe(false);
    expect(sut(demo, 'read', p('demo_x'))).toBe(true);
    expect(sut(demo, 'delete', p('demo_x'))).toBe(true);
  });

  it('does not grant a prefix for permissions that name every worker under it one by one', () => {
    const exact = limited([{ scopes: ['global'], permissions: [{ js_result: { delete: 'a' } }, { js_result: { delete: 'ab' } }] }]);
    expect(sut(exact, 'delete', p('a'))).toBe(true);
    expect(sut(exact, 'delete', p('a*'))).toBe(false);
  });

  it('does not combine a scope from one limit with a permission from another', () => {
    const split = limited([
      { scopes: [{ js_worker: 'a*' }], permissions: [{ js_result: { delete: 'b*' } }] },
      { scopes: [{ js_worker: 'b*' }], permissions: [{ js_result: { delete: 'a*' } }] },
    ]);
    expect(sut(split, 'delete', p('a*'))).toBe(false);
    expect(sut(split, 'delete', p('b*'))).toBe(false);
  });

  it('counts the global scope as covering every pattern, and other scope kinds as covering none', () => {
    expect(sut(limited([{ scopes: ['global'], permissions: [{ js_result: { delete: '*' } }] }]), 'delete', p('*'))).toBe(true);
    expect(sut(limited([{ scopes: [{ agent_uuid: '*' }], permissions: [{ js_result: { delete: '*' } }] }]), 'delete', p('x'))).toBe(false);
  });
});
