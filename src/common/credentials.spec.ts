import { DomainError } from './domain.error';
import { credentialName, parseCredentials } from './credentials';

const KEY = 'n0kB8lSAykFd9Egu';

describe(parseCredentials.name, () => {
  const sut = parseCredentials;

  it.each([
    ['key:secret', `${KEY}:s3cret`, { mode: 'token', key: KEY, secret: 's3cret' }],
    ['a token key wins even when the secret holds a |', `${KEY}:a|b`, { mode: 'token', key: KEY, secret: 'a|b' }],
    ['NodeGet: a : with no | is a token, whatever the key looks like', 'not-a-key:x', { mode: 'token', key: 'not-a-key', secret: 'x' }],
    ['username|password', 'ann|pw', { mode: 'account', username: 'ann', password: 'pw' }],
    ['a password holding : and |', 'ann|p:w|d', { mode: 'account', username: 'ann', password: 'p:w|d' }],
    ["the dashboard's agent account", '[agent]:0b9f6c1e-7a53-4c2e-9d0a-3f1b2c4d5e6f|pw', { mode: 'account', username: '[agent]:0b9f6c1e-7a53-4c2e-9d0a-3f1b2c4d5e6f', password: 'pw' }],
    ['a username with : before a key-shaped part', 'ops:team|pw', { mode: 'account', username: 'ops:team', password: 'pw' }],
    ['a | before the first : that is not a key', 'a|b:c', { mode: 'account', username: 'a', password: 'b:c' }],
    ['an empty key', ':secret', { mode: 'token', key: '', secret: 'secret' }],
  ])('%s', (_label, text, expected) => {
    expect(sut(text)).toEqual(expected);
  });

  it('refuses text with neither separator as unparseable', () => {
    expect(() => sut('just-a-name')).toThrow(DomainError);
    expect(() => sut('just-a-name')).toThrow("Invalid token format: must be 'key:secret' or 'username|password'");
  });
});

describe(credentialName.name, () => {
  it('names a credential by its key or username, never its secret part', () => {
    expect(credentialName(parseCredentials(`${KEY}:s3cret`))).toBe(KEY);
    expect(credentialName(parseCredentials('[agent]:x|pw'))).toBe('[agent]:x');
  });
});
