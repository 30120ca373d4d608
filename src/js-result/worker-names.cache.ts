import { BoundedMap } from '../common/bounded-map';

interface CachedNames {
  names: Promise<readonly string[]>;
  fetchedAt: number;
}

const MAX_CACHED = 10_000;

/**
 * The existing worker names under a set of wildcard prefixes, reused for
 * `ttlMs`. Reads that name no worker start from these names, so finding them
 * (a skip scan over the results table) is paid once per TTL rather than on
 * every call; the statement that follows is then a plain merge of per-worker
 * index scans, which PostgreSQL plans in a fraction of the time.
 *
 * Concurrent misses for the same prefixes share one lookup, and a failed
 * lookup is not kept. With `ttlMs` 0 every call looks the names up.
 */
export class WorkerNamesCache {
  private readonly cache = new BoundedMap<string, CachedNames>(MAX_CACHED);

  constructor(
    private readonly lookup: (prefixes: readonly string[]) => Promise<readonly string[]>,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  under(prefixes: readonly string[]): Promise<readonly string[]> {
    if (this.ttlMs <= 0) return this.lookup(prefixes);
    const key = prefixes.join('\u0000');
    const cached = this.cache.get(key);
    if (cached && this.now() - cached.fetchedAt < this.ttlMs) return cached.names;
    const entry: CachedNames = { names: this.lookup(prefixes), fetchedAt: this.now() };
    this.cache.set(key, entry);
    entry.names.catch(() => {
      if (this.cache.get(key) === entry) this.cache.delete(key);
    });
    return entry.names;
  }
}
