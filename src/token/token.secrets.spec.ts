import { hashPassword, needsRehash, passwordMatches, scryptParams, unknownUserPasswordHash } from './token.secrets';

describe(hashPassword.name, () => {
  it('hashes at OWASP\'s minimum by default (N = 2^17, r = 8, p = 1), beyond Node\'s default memory bound, and verifies it', async () => {
    const sut = await hashPassword('correct horse');
    expect(sut).toMatch(/^scrypt\$131072\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    expect(await passwordMatches('correct horse', sut)).toBe(true);
    expect(await passwordMatches('correct horsE', sut)).toBe(false);
  });

  it('keeps the parameters of a stored hash: an older, cheaper one still verifies', async () => {
    const old = await hashPassword('pw', { N: 2 ** 14, r: 8, p: 1, keylen: 32 });
    expect(old.startsWith('scrypt$16384$8$1$')).toBe(true);
    expect(await passwordMatches('pw', old)).toBe(true);
    expect(await passwordMatches('px', old)).toBe(false);
  });

  it('tells which stored hashes were made with other parameters than the current ones', async () => {
    const current = scryptParams(12);
    expect(needsRehash(await hashPassword('pw', scryptParams(10)), current)).toBe(true);
    expect(needsRehash(await hashPassword('pw', { ...current, r: 4 }), current)).toBe(true);
    expect(needsRehash(await hashPassword('pw', current), current)).toBe(false);
    expect(needsRehash('0'.repeat(64), current)).toBe(false);
  });

  it.each([
    ['another scheme', 'bcrypt$12$x$y'],
    ['N not a power of two', 'scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='],
    ['N past what is ever computed', 'scrypt$1073741824$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='],
    ['r of zero', 'scrypt$1024$0$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='],
    ['no hash', 'scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA==$'],
  ])('refuses a stored hash with %s without computing it', async (_, stored) => {
    expect(await passwordMatches('pw', stored)).toBe(false);
  });

  it('checks an unknown username against a hash at the current parameters, which nothing matches', async () => {
    const sut = unknownUserPasswordHash(scryptParams(12));
    expect(sut.startsWith('scrypt$4096$8$1$')).toBe(true);
    expect(await passwordMatches('', sut)).toBe(false);
  });
});
