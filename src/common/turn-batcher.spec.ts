import { deferred } from '../../test/support/deferred';
import { TurnBatcher } from './turn-batcher';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('TurnBatcher', () => {
  it('sends the calls of one turn as one batch, in order, and answers each caller with its own result', async () => {
    const batches: number[][] = [];
    const batcher = new TurnBatcher<number, number>(
      async (items) => (batches.push(items), items.map((n) => n * 10)),
      async () => Promise.reject(new Error('not alone')),
      { maxBatch: 100, maxInFlight: 1 },
    );
    await expect(Promise.all([1, 2, 3].map((n) => batcher.add(n)))).resolves.toEqual([10, 20, 30]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('splits at maxBatch, and gathers the calls made while maxInFlight batches are out into the next one', async () => {
    const gate = deferred();
    const batches: number[][] = [];
    const batcher = new TurnBatcher<number, number>(
      async (items) => (batches.push(items), await gate.promise, items),
      async (item) => (batches.push([item]), item),
      { maxBatch: 2, maxInFlight: 1 },
    );
    const first = [1, 2, 3].map((n) => batcher.add(n));
    await turn();
    const later = [4, 5].map((n) => batcher.add(n));
    await turn();
    expect(batches).toEqual([[1, 2]]);
    gate.resolve();
    await expect(Promise.all([...first, ...later])).resolves.toEqual([1, 2, 3, 4, 5]);
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('does a refused batch again item by item, so one bad item fails only its own caller', async () => {
    const alone: string[] = [];
    const batcher = new TurnBatcher<string, string>(
      async (items) => (items.includes('bad') ? Promise.reject(new Error('batch refused')) : items),
      async (item) => (alone.push(item), item === 'bad' ? Promise.reject(new Error(`refused ${item}`)) : item.toUpperCase()),
      { maxBatch: 10, maxInFlight: 2 },
    );
    const results = await Promise.allSettled(['a', 'bad', 'c'].map((item) => batcher.add(item)));
    expect(results).toEqual([
      { status: 'fulfilled', value: 'A' },
      { status: 'rejected', reason: new Error('refused bad') },
      { status: 'fulfilled', value: 'C' },
    ]);
    expect(alone.sort()).toEqual(['a', 'bad', 'c']);
  });

  it('fails every caller with the batch error, doing nothing again, when retryAlone says no', async () => {
    let alone = 0;
    const batcher = new TurnBatcher<number, number>(
      async () => Promise.reject(new Error('connection lost')),
      async (item) => (alone++, item),
      { maxBatch: 10, maxInFlight: 1, retryAlone: () => false },
    );
    const results = await Promise.allSettled([1, 2].map((n) => batcher.add(n)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(alone).toBe(0);
  });

  it('sends a lone call alone', async () => {
    const batcher = new TurnBatcher<number, string>(
      async () => Promise.reject(new Error('not a batch')),
      async (item) => `one ${item}`,
      { maxBatch: 10, maxInFlight: 1 },
    );
    await expect(batcher.add(7)).resolves.toBe('one 7');
  });
});
