import { availableParallelism } from 'node:os';
import { DEFAULT_RESPONSE_LIMITS, loadConfig } from './app.config';

describe('LARGE_READ_MAX_CONCURRENT', () => {
  const url = 'postgres://postgres@127.0.0.1:5432/postgres';

  it('is half the connection pool on PostgreSQL, where each large read holds a connection while it is sent, at most the cores', () => {
    const cores = availableParallelism();
    expect(loadConfig({ DATABASE_URL: url }).responses.largeReadMaxConcurrent).toBe(Math.min(5, cores));
    expect(loadConfig({ DATABASE_URL: url, DB_POOL_SIZE: '8' }).responses.largeReadMaxConcurrent).toBe(Math.min(4, cores));
    expect(loadConfig({ DATABASE_URL: url, DB_POOL_SIZE: '1' }).responses.largeReadMaxConcurrent).toBe(1);
  });

  it('is half the cores on the embedded database, and what it is set to on either', () => {
    expect(loadConfig({ DATA_DIR: 'memory://' }).responses.largeReadMaxConcurrent).toBe(DEFAULT_RESPONSE_LIMITS.largeReadMaxConcurrent);
    expect(loadConfig({ DATABASE_URL: url, LARGE_READ_MAX_CONCURRENT: '7' }).responses.largeReadMaxConcurrent).toBe(7);
    expect(loadConfig({ DATA_DIR: 'memory://', LARGE_READ_MAX_CONCURRENT: '3' }).responses.largeReadMaxConcurrent).toBe(3);
    expect(() => loadConfig({ DATABASE_URL: url, LARGE_READ_MAX_CONCURRENT: '0' })).toThrow(/LARGE_READ_MAX_CONCURRENT/);
  });
});
