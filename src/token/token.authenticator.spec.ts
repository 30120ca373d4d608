import type { Database } from '../database/database';
import type { Statement } from '../database/statement';
import { hashPassword, hashSecret, scryptParams } from './token.secrets';
import { TokenChanges } from './token-changes';
import { TokenAuthenticator } from './token.authenticator';
import type { Token } from './token.entity';
import type { TokenService } from './token.service';
import { type AppConfig, DEFAULT_LOGIN_LIMITS } from '../config/app.config';
import { LoginBudget, SYSTEM_LOGIN } from './login-budget';
import { LoginThrottleRepository } from './login-throttle.repository';

/** Cheaper than the default (2^17), as in the e2e suites; the stored hashes are made at it too, so none is upgraded. */
const TEST_SCRYPT_COST = 14;

const LIMITS = [{ scopes: ['global'], permissions: [{ js_result: { read: '*' } }] }];

function tokenRow(overrides: Partial<Token>): Token {
  return {
    id: 7, key: 'k', secretHash: hashSecret('s'), timestampFrom: null, timestampTo: null,
    limits: LIMITS, username: null, passwordHash: null, createdAt: 0, updatedAt: 0, ...overrides,
  };
}

/** A token store that answers from memory, to isolate the guard's own rules. */
function guardOver(rows: Token[], ttlMs = 1_000) {
  const lookups: string[] = [];
  const store = {
    findByKey: async (key: string) => (lookups.push(key), rows.find((r) => r.key === key) ?? null),
    findByUsername: async (u: string) => (lookups.push(`u:${u}`), rows.find((r) => r.username === u) ?? null),
    findByKeyIfChanged: async (key: string, known: string) => (lookups.push(key), rows.find((r) => r.key === key && r.secretHash !== known) ?? null),
    findByUsernameIfChanged: async (u: string, known: string | null) =>
      (lookups.push(`u:${u}`), rows.find((r) => r.username === u && r.passwordHash !== known) ?? null),
  } as unknown as TokenService;
  // System logins only: the throttle's database is never reached.
  const budget = new LoginBudget({ login: DEFAULT_LOGIN_LIMITS }, {} as LoginThrottleRepository);
  const config = { tokenCacheTtlMs: ttlMs, scryptCost: TEST_SCRYPT_COST } as AppConfig;
  return { sut: new TokenAuthenticator(store, config, new TokenChanges(), budget), lookups, budget, store };
}

/** An authenticator whose password logins come from a client, over a throttle whose statements are counted. */
async function clientLoginsOver(rows: Token[]) {
  let statements = 0;
  const answer = async ({ text }: Statement) => {
    statements++;
    return text.includes('address_blocked_until') ? [{ address_blocked_until: '0', username_counted: 1, username_blocked_until: null }] : [];
  };
  const throttle = new LoginThrottleRepository({ prepare: (text: string) => text, rows: answer } as unknown as Database);
  const { lookups, store } = guardOver(rows, 60_000);
  const budget = new LoginBudget({ login: DEFAULT_LOGIN_LIMITS, tokenCacheTtlMs: 60_000 }, throttle);
  const changes = new TokenChanges();
  const config = { tokenCacheTtlMs: 60_000, scryptCost: TEST_SCRYPT_COST } as AppConfig;
  const authenticator = new TokenAuthenticator(store, config, changes, budget);
  const login = (credential: string) => authenticator.authenticate(credential, { peer: '192.0.2.7', accounts: new Set() });
  return { login, changes, statements: () => statements, lookups, hashes: () => budget.hashStats.completed };
}

describe(TokenAuthenticator.name, () => {
  describe('a client repeating a password login (a dashboard sending username|password with every call)', () => {
    it('reaches neither the throttle, the database nor a hash while the verified password is cached', async () => {
      const rows = [tokenRow({ username: 'alice', passwordHash: await hashPassword('pw:1|x', scryptParams(TEST_SCRYPT_COST)) })];
      const t = await clientLoginsOver(rows);
      await expect(t.login('alice|pw:1|x')).resolves.toMatchObject({ kind: 'limited' });
      const [statements, lookups, hashes] = [t.statements(), t.lookups.length, t.hashes()];

      await expect(t.login('alice|pw:1|x')).resolves.toMatchObject({ kind: 'limited' });
      expect([t.statements(), t.lookups.length, t.hashes()]).toEqual([statements, lookups, hashes]);
    });

    it('checks a wrong password the whole way, and the next right one too', async () => {
      const rows = [tokenRow({ username: 'alice', passwordHash: await hashPassword('right', scryptParams(TEST_SCRYPT_COST)) })];
      const t = await clientLoginsOver(rows);
      await t.login('alice|right');
      const hashes = t.hashes();
      await expect(t.login('alice|wrong')).rejects.toThrow('Invalid credentials');
      expect(t.hashes()).toBe(hashes + 1);
      const statements = t.statements();
      await expect(t.login('alice|right')).resolves.toMatchObject({ kind: 'limited' });
      expect(t.statements()).toBeGreaterThan(statements);
    });

    it('stops repeating once the account changes: the new password is checked, the old one refused', async () => {
      const rows = [tokenRow({ username: 'alice', passwordHash: await hashPassword('old', scryptParams(TEST_SCRYPT_COST)) })];
      const t = await clientLoginsOver(rows);
      await t.login('alice|old');
      rows[0] = tokenRow({ username: 'alice', passwordHash: await hashPassword('new', scryptParams(TEST_SCRYPT_COST)) });
      t.changes.changed(rows[0].id);
      await expect(t.login('alice|old')).rejects.toThrow('Invalid credentials');
      await expect(t.login('alice|new')).resolves.toMatchObject({ kind: 'limited' });
    });
  });

  it('holds permissions only inside the time window, both bounds inclusive', async () => {
    const { sut } = guardOver([tokenRow({ timestampFrom: 1000, timestampTo: 2000 })]);
    const limitsAt = async (now: number) => {
      const auth = await sut.authenticate('k:s', SYSTEM_LOGIN, now);
      return auth.kind === 'limited' ? auth.limits.length : -1;
    };
    expect(await limitsAt(999)).toBe(0);
    expect(await limitsAt(1000)).toBe(1);
    expect(await limitsAt(2000)).toBe(1);
    expect(await limitsAt(2001)).toBe(0);
  });

  it('recognises the super token by id 1 and username root', async () => {
    const { sut } = guardOver([tokenRow({ id: 1, username: 'root', key: 'k' }), tokenRow({ id: 2, username: 'root2', key: 'k2' })]);
    expect((await sut.authenticate('k:s', SYSTEM_LOGIN)).kind).toBe('super');
    expect((await sut.authenticate('k2:s', SYSTEM_LOGIN)).kind).toBe('limited');
  });

  it('looks an unknown key up every time rather than caching its absence', async () => {
    const rows: Token[] = [];
    const { sut, lookups } = guardOver(rows);
    await expect(sut.authenticate('k:s', SYSTEM_LOGIN)).rejects.toThrow('Invalid credentials');
    rows.push(tokenRow({}));
    await expect(sut.authenticate('k:s', SYSTEM_LOGIN)).resolves.toMatchObject({ kind: 'limited' });
    expect(lookups).toEqual(['k', 'k']);
  });

  it('reads a cached token again once its entry is older than the TTL', async () => {
    const rows = [tokenRow({})];
    const { sut, lookups } = guardOver(rows, 50);
    await sut.authenticate('k:s', SYSTEM_LOGIN);
    await sut.authenticate('k:s', SYSTEM_LOGIN);
    expect(lookups).toHaveLength(1);
    rows[0] = tokenRow({ secretHash: hashSecret('rolled') });
    await new Promise((r) => setTimeout(r, 60));
    await expect(sut.authenticate('k:s', SYSTEM_LOGIN)).rejects.toThrow('Invalid credentials');
    await expect(sut.authenticate('k:rolled', SYSTEM_LOGIN)).resolves.toMatchObject({ kind: 'limited' });
  });

  describe('a refusal costs the same whether the key or username exists', () => {
    it('reads a cached key again before refusing its wrong secret: one read, as for an unknown key', async () => {
      const { sut, lookups } = guardOver([tokenRow({})]);
      await sut.authenticate('k:s', SYSTEM_LOGIN);
      expect(lookups).toEqual(['k']);
      await expect(sut.authenticate('k:wrong', SYSTEM_LOGIN)).rejects.toThrow('Invalid credentials');
      await expect(sut.authenticate('unknownKey:wrong', SYSTEM_LOGIN)).rejects.toThrow('Invalid credentials');
      expect(lookups).toEqual(['k', 'k', 'unknownKey']);
    });

    it('so a secret rolled elsewhere works before the change is heard', async () => {
      const rows = [tokenRow({})];
      const { sut } = guardOver(rows, 60_000);
      await sut.authenticate('k:s', SYSTEM_LOGIN);
      rows[0] = tokenRow({ secretHash: hashSecret('rolled') });
      await expect(sut.authenticate('k:rolled', SYSTEM_LOGIN)).resolves.toMatchObject({ kind: 'limited' });
    });

    it('hashes a wrong password even when the account logged in a moment ago, as for an unknown username', async () => {
      const { sut, budget, lookups } = guardOver([tokenRow({ username: 'ann', passwordHash: await hashPassword('right', scryptParams(TEST_SCRYPT_COST)) })]);
      await sut.authenticate('ann|right', SYSTEM_LOGIN);
      await sut.authenticate('ann|right', SYSTEM_LOGIN);
      expect(budget.hashStats.completed).toBe(1);
      await expect(sut.authenticate('ann|wrong', SYSTEM_LOGIN)).rejects.toThrow('Invalid credentials');
      expect(budget.hashStats.completed).toBe(2);
      await expect(sut.authenticate('bob|wrong', SYSTEM_LOGIN)).rejects.toThrow('Invalid credentials');
      expect(budget.hashStats.completed).toBe(3);
      expect(lookups).toEqual(['u:ann', 'u:ann', 'u:bob']);
    });

    it.each(['k\u0000:s', 'k:s\u0000', 'k:\ud800', 'ann\u0000|right', 'ann|right\u0000'])(
      'refuses a credential holding text the database cannot store (%j) like any other, without looking it up',
      async (credential) => {
        const { sut, lookups } = guardOver([tokenRow({ username: 'ann', passwordHash: await hashPassword('right', scryptParams(TEST_SCRYPT_COST)) })]);
        await expect(sut.authenticate(credential, SYSTEM_LOGIN)).rejects.toThrow('Invalid credentials');
        expect(lookups).toEqual([]);
      },
    );
  });
});
