import fc from 'fast-check';
import { accessibleWorkers, type Auth, canAccessWorker, type WorkerAccess } from './auth';
import { readTokenLimits } from './token-limit';

const limited = (raw: unknown): Auth => ({ kind: 'limited', tokenId: 2, tokenKey: 'k2', limits: readTokenLimits(raw) });

function accessMatches(access: WorkerAccess, name: string): boolean {
  return access.kind === 'all' || access.names.includes(name) || access.prefixes.some((p) => name.startsWith(p));
}

describe(canAccessWorker.name, () => {
  const sut = canAccessWorker;
  const demo = limited([
    { scopes: [{ js_worker: 'demo_*' }], permissions: [{ js_result: { read: 'demo_*' } }] },
  ]);

  it('matches exact names and suffix-* prefixes only', () => {
    expect(sut(demo, 'read', 'demo_worker')).toBe(true);
    expect(sut(demo, 'read', 'demo_')).toBe(true);
    expect(sut(demo, 'read', 'demoXworker')).toBe(false);
    expect(sut(demo, 'read', 'demo')).toBe(false);
  });

  it('treats %, _, ? and a * elsewhere as literal characters', () => {
    const auth = limited([
      { scopes: ['global'], permissions: [{ js_result: { read: 'a%b' } }, { js_result: { read: 'x*y*' } }, { js_result: { read: 'q?' } }] },
    ]);
    expect(sut(auth, 'read', 'a%b')).toBe(true);
    expect(sut(auth, 'read', 'aXb')).toBe(false);
    expect(sut(auth, 'read', 'x*yz')).toBe(true);
    expect(sut(auth, 'read', 'xAyz')).toBe(false);
    expect(sut(auth, 'read', 'q?')).toBe(true);
    expect(sut(auth, 'read', 'qq')).toBe(false);
  });

  it('never lets read imply delete, nor the reverse', () => {
    expect(sut(demo, 'delete', 'demo_worker')).toBe(false);
    const deleter = limited([{ scopes: ['global'], permissions: [{ js_result: { delete: '*' } }] }]);
    expect(sut(deleter, 'read', 'anything')).toBe(false);
    expect(sut(deleter, 'delete', 'anything')).toBe(true);
  });

  it('does not combine a scope from one limit with a permission from another', () => {
    const split = limited([
      { scopes: [{ js_worker: 'a' }], permissions: [{ js_result: { read: 'b' } }] },
      { scopes: [{ js_worker: 'b' }], permissions: [{ js_result: { read: 'a' } }] },
    ]);
    expect(sut(split, 'read', 'a')).toBe(false);
    expect(sut(split, 'read', 'b')).toBe(false);
  });

  it('ignores scope and permission kinds it does not know, and other scopes never cover a worker', () => {
    const auth = limited([
      {
        scopes: [{ agent_uuid: 'x' }, { kv_namespace: 'n' }, 'mystery', { js_worker: 'ok' }],
        permissions: [{ kv: { read: '*' } }, { task: 'list' }, { js_result: { read: 'ok' } }, { js_result: { frobnicate: '*' } }],
      },
      { scopes: [{ agent_uuid: '*' }, { static_bucket: '*' }, { db: '*' }], permissions: [{ js_result: { read: '*' } }] },
    ]);
    expect(sut(auth, 'read', 'ok')).toBe(true);
    expect(sut(auth, 'read', 'other')).toBe(false);
  });

  it('grants everything to the super token', () => {
    expect(sut({ kind: 'super', tokenId: 1, tokenKey: 'k1' }, 'delete', 'x')).toBe(true);
  });
});

describe(accessibleWorkers.name, () => {
  const sut = accessibleWorkers;

  it('reduces grants to minimal names and prefixes', () => {
    const auth = limited([
      {
        scopes: [{ js_worker: 'w_*' }, { js_worker: 'solo' }],
        permissions: [{ js_result: { read: 'w_1*' } }, { js_result: { read: 'w_12*' } }, { js_result: { read: 'w_19' } }, { js_result: { read: 'solo' } }],
      },
    ]);
    expect(sut(auth, 'read')).toEqual({ kind: 'patterns', names: ['solo'], prefixes: ['w_1'] });
  });

  it('is everything for a global scope with a * permission, and nothing without a permission', () => {
    expect(sut(limited([{ scopes: ['global'], permissions: [{ js_result: { read: '*' } }] }]), 'read')).toEqual({ kind: 'all' });
    expect(sut(limited([{ scopes: ['global'], permissions: [] }]), 'read')).toEqual({ kind: 'patterns', names: [], prefixes: [] });
  });

  // Worker names and patterns from a small alphabet, so that matches are frequent.
  const name = fc.string({ unit: fc.constantFrom('a', 'b', '_', '%', '*'), maxLength: 4 });
  const pattern = fc.oneof(name, name.map((n) => `${n}*`));
  const scope = fc.oneof(fc.constant<unknown>('global'), pattern.map((p) => ({ js_worker: p })), fc.constant({ agent_uuid: 'x' }));
  const permission = fc.oneof(
    pattern.map((p) => ({ js_result: { read: p } })),
    pattern.map((p) => ({ js_result: { delete: p } })),
    fc.constant({ kv: { read: '*' } }),
  );
  const limits = fc.array(fc.record({ scopes: fc.array(scope, { maxLength: 3 }), permissions: fc.array(permission, { maxLength: 3 }) }), { maxLength: 3 });

  it('admits exactly the names canAccessWorker admits (property)', () => {
    fc.assert(
      fc.property(limits, fc.constantFrom('read' as const, 'delete' as const), fc.array(name, { maxLength: 10 }), (raw, action, names) => {
        const auth = limited(raw);
        const access = sut(auth, action);
        for (const n of names) expect(accessMatches(access, n)).toBe(canAccessWorker(auth, action, n));
      }),
      { numRuns: 500 },
    );
  });
});
