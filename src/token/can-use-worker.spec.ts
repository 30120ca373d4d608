import { type Auth, canUseWorker } from './auth';
import { checkTokenLimits, readTokenLimits } from './token-limit';

const limited = (raw: unknown): Auth => ({ kind: 'limited', tokenId: 2, tokenKey: 'k2', limits: readTokenLimits(raw) });

/** The js_worker permission rules: unit permissions under a js_worker scope, per limit. */
describe(canUseWorker.name, () => {
  const sut = canUseWorker;

  it('needs a covering scope and the unit permission in the same limit', () => {
    const auth = limited([{ scopes: [{ js_worker: 'demo_*' }], permissions: [{ js_worker: 'run_defined_js_worker' }] }]);
    expect(sut(auth, 'run_defined_js_worker', 'demo_a')).toBe(true);
    expect(sut(auth, 'run_defined_js_worker', 'demoXa')).toBe(false);
    expect(sut(auth, 'read', 'demo_a')).toBe(false);
  });

  it('does not combine a scope from one limit with a permission from another', () => {
    const auth = limited([
      { scopes: [{ js_worker: 'a' }], permissions: [{ js_worker: 'read' }] },
      { scopes: [{ js_worker: 'b' }], permissions: [] },
    ]);
    expect(sut(auth, 'read', 'a')).toBe(true);
    expect(sut(auth, 'read', 'b')).toBe(false);
  });

  it('lets a global scope cover every worker, and other scope kinds none', () => {
    const global = limited([{ scopes: ['global'], permissions: [{ js_worker: 'create' }] }]);
    expect(sut(global, 'create', 'anything')).toBe(true);
    const other = limited([{ scopes: [{ agent_uuid: '*' }, { kv_namespace: '*' }], permissions: [{ js_worker: 'create' }] }]);
    expect(sut(other, 'create', 'anything')).toBe(false);
  });

  it('keeps each action separate and ignores values it does not know', () => {
    const auth = limited([
      {
        scopes: ['global'],
        permissions: [{ js_worker: 'write' }, { js_worker: 'run_raw_js_worker' }, { js_worker: 'list_all_js_worker' }, { js_result: { read: '*' } }],
      },
    ]);
    expect(sut(auth, 'write', 'w')).toBe(true);
    expect(sut(auth, 'list_all_js_worker', 'w')).toBe(true);
    for (const action of ['create', 'read', 'delete', 'run_defined_js_worker'] as const) expect(sut(auth, action, 'w')).toBe(false);
  });

  it('does not let js_result permissions imply js_worker ones, nor the reverse', () => {
    const auth = limited([{ scopes: ['global'], permissions: [{ js_result: { read: '*' } }, { js_result: { delete: '*' } }] }]);
    expect(sut(auth, 'read', 'w')).toBe(false);
    expect(sut(auth, 'delete', 'w')).toBe(false);
    expect(readTokenLimits([{ scopes: ['global'], permissions: [{ js_worker: 'read' }] }])[0].jsResult).toEqual({ read: [], delete: [] });
  });

  it('grants everything to the super token', () => {
    expect(sut({ kind: 'super', tokenId: 1, tokenKey: 'k1' }, 'delete', 'x')).toBe(true);
  });
});

describe(checkTokenLimits.name, () => {
  const sut = checkTokenLimits;

  it('accepts js_worker unit permissions, known or not', () => {
    expect(() =>
      sut([{ scopes: [{ js_worker: 'a*' }], permissions: [{ js_worker: 'create' }, { js_worker: 'run_raw_js_worker' }, { js_worker: 'someday' }] }]),
    ).not.toThrow();
  });

  it.each([
    [{ js_worker: { create: '*' } }, '{"create":"*"}'],
    [{ js_worker: 1 }, '1'],
    [{ js_worker: null }, 'null'],
  ])('refuses a js_worker permission that is not a string: %j', (permission, shown) => {
    expect(() => sut([{ scopes: ['global'], permissions: [permission] }])).toThrow(
      `token_limit: [0].permissions[0].js_worker: expected a permission name such as "run_defined_js_worker", got ${shown}`,
    );
  });
});
