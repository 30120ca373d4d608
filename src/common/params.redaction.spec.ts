import { redactParams } from './params.redaction';

describe(redactParams.name, () => {
  const sut = redactParams;

  it.each([
    ['a key', 'n0kB8lSAykFd9Egu', 'n0kB8lSAykFd9Egu'],
    ['a key:secret', 'n0kB8lSAykFd9Egu:TopSecret', 'n0kB8lSAykFd9Egu:***'],
    ['a username|password', 'ann|TopSecret', 'ann|***'],
    ['a password holding :', 'ann|Top:Secret', 'ann|***'],
    ["the dashboard's agent account", '[agent]:0b9f6c1e|Top:Secret', '[agent]:0b9f6c1e|***'],
  ])('keeps only the key or username of a target given as %s', (_label, target, kept) => {
    expect(sut({ token: 'k:s', target_token: target })).toEqual({ token: '***', target_token: kept });
  });
});
