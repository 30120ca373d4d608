import { WorkerNamesCache } from './worker-names.cache';

function setup(ttlMs: number) {
  let now = 0;
  const lookups: string[][] = [];
  let next: () => Promise<readonly string[]> = async () => ['w_1', 'w_2'];
  const sut = new WorkerNamesCache(
    (prefixes) => {
      lookups.push([...prefixes]);
      return next();
    },
    ttlMs,
    () => now,
  );
  return {
    sut,
    lookups,
    advance: (ms: number) => (now += ms),
    answerWith: (answer: () => Promise<readonly string[]>) => (next = answer),
  };
}

describe(WorkerNamesCache.name, () => {
  it('reuses the names found for the same prefixes until the TTL has passed', async () => {
    const { sut, lookups, advance } = setup(1000);
    expect(await sut.under(['w_'])).toEqual(['w_1', 'w_2']);
    advance(999);
    await sut.under(['w_']);
    expect(lookups).toHaveLength(1);
    advance(1);
    await sut.under(['w_']);
    expect(lookups).toHaveLength(2);
  });

  it('keeps different prefix sets apart', async () => {
    const { sut, lookups } = setup(1000);
    await sut.under(['a']);
    await sut.under(['a', 'b']);
    await sut.under(['ab']);
    expect(lookups).toEqual([['a'], ['a', 'b'], ['ab']]);
  });

  it('shares one lookup between concurrent callers', async () => {
    const { sut, lookups } = setup(1000);
    const answers = await Promise.all([sut.under(['w_']), sut.under(['w_']), sut.under(['w_'])]);
    expect(lookups).toHaveLength(1);
    expect(answers).toEqual([['w_1', 'w_2'], ['w_1', 'w_2'], ['w_1', 'w_2']]);
  });

  it('does not keep a failed lookup', async () => {
    const { sut, lookups, answerWith } = setup(1000);
    answerWith(() => Promise.reject(new Error('database down')));
    await expect(sut.under(['w_'])).rejects.toThrow('database down');
    answerWith(async () => ['w_3']);
    expect(await sut.under(['w_'])).toEqual(['w_3']);
    expect(lookups).toHaveLength(2);
  });

  it('looks the names up on every call with a TTL of 0', async () => {
    const { sut, lookups } = setup(0);
    await sut.under(['w_']);
    await sut.under(['w_']);
    expect(lookups).toHaveLength(2);
  });
});
