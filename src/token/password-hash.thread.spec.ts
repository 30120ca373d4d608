import { scryptSync } from 'node:crypto';
import { getPriority } from 'node:os';
import { PASSWORD_HASH_NICENESS, PasswordHashThread } from './password-hash.thread';

const OPTIONS = { N: 2 ** 10, r: 8, p: 1, maxmem: 32 * 1024 * 1024 };

// A thread starts by transpiling its entry under ts-jest: slow on a loaded machine.
jest.setTimeout(30_000);

describe(PasswordHashThread.name, () => {
  let sut: PasswordHashThread;

  beforeEach(() => (sut = new PasswordHashThread()));
  afterEach(() => sut.stop());

  it('computes the same scrypt hashes as the main thread would, each to its own caller', async () => {
    const salts = [Buffer.from('salt one'), Buffer.from('salt two'), Buffer.from('salt three')];
    const hashes = await Promise.all(salts.map((salt, i) => sut.scrypt(`pw ${i}`, salt, 32, OPTIONS)));
    hashes.forEach((hash, i) => expect(hash.equals(scryptSync(`pw ${i}`, salts[i], 32, OPTIONS))).toBe(true));
  });

  it('runs as many hashes at once as it is given, on as many threads, and no more threads than ever ran at once', async () => {
    await Promise.all([1, 2, 3].map((i) => sut.scrypt(`pw ${i}`, Buffer.from('s'), 32, OPTIONS)));
    expect(sut.size).toBe(3);
    for (const i of [1, 2, 3]) await sut.scrypt(`pw ${i}`, Buffer.from('s'), 32, OPTIONS);
    expect(sut.size).toBe(3);
  });

  it('runs at a lower priority than the process, which keeps its own', async () => {
    const before = getPriority(0);
    expect(await sut.threadNiceness()).toBe(Math.max(before, PASSWORD_HASH_NICENESS));
    expect(getPriority(0)).toBe(before);
  });

  it('fails a hash that cannot be computed, and the hashes of a thread that ended, then starts again', async () => {
    await expect(sut.scrypt('pw', Buffer.from('s'), 32, { ...OPTIONS, N: 3 })).rejects.toThrow();
    const lost = sut.scrypt('pw', Buffer.from('s'), 32, { ...OPTIONS, N: 2 ** 17, maxmem: 512 * 1024 * 1024 });
    await sut.stop();
    await expect(lost).rejects.toThrow(/ended/);
    expect((await sut.scrypt('pw', Buffer.from('s'), 32, OPTIONS)).equals(scryptSync('pw', Buffer.from('s'), 32, OPTIONS))).toBe(true);
  });
});
