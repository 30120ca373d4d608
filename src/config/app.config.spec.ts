import { ConfigError, DEFAULT_LOGIN_LIMITS, loadConfig } from './app.config';

describe(loadConfig.name, () => {
  const sut = loadConfig;

  it('defaults to port 3000 on all interfaces with the embedded database in ./data', () => {
    const config = sut({});
    expect(config).toMatchObject({ port: 3000, host: '0.0.0.0', poolSize: 10, tokenCacheTtlMs: 1000, workerNamesCacheTtlMs: 1000, logLevel: 'info' });
    expect(config.database).toEqual({ kind: 'embedded', dataDir: `${process.cwd()}/data` });
  });

  it('uses a PostgreSQL server when DATABASE_URL is set, and keeps memory:// as is', () => {
    expect(sut({ DATABASE_URL: ' postgres://u@h:5432/db ' }).database).toEqual({ kind: 'postgres', url: 'postgres://u@h:5432/db' });
    expect(sut({ DATA_DIR: 'memory://' }).database).toEqual({ kind: 'embedded', dataDir: 'memory://' });
  });

  it('closes idle WebSocket connections after WS_IDLE_TIMEOUT_MS, five minutes by default', () => {
    expect(sut({}).wsIdleTimeoutMs).toBe(300_000);
    expect(sut({ WS_IDLE_TIMEOUT_MS: ' 60000 ' }).wsIdleTimeoutMs).toBe(60_000);
  });

  it('reads the login limits from LOGIN_*, each with its default when unset', () => {
    expect(sut({ LOGIN_MAX_ACCOUNTS_PER_REQUEST: '2', LOGIN_USERNAME_BACKOFF_MAX_MS: '60000' }).login).toEqual({
      maxConcurrentHashes: DEFAULT_LOGIN_LIMITS.maxConcurrentHashes,
      maxQueuedHashes: 64,
      maxAccountsPerRequest: 2,
      failuresPerAddress: 20,
      addressBlockMs: 60_000,
      failuresPerUsername: 5,
      usernameBackoffMaxMs: 60_000,
    });
    expect(() => sut({ LOGIN_MAX_CONCURRENT_HASHES: '0' })).toThrow('LOGIN_MAX_CONCURRENT_HASHES must not be less than 1');
    expect(() => sut({ LOGIN_ADDRESS_BLOCK_MS: '999' })).toThrow('LOGIN_ADDRESS_BLOCK_MS must not be less than 1000');
  });

  it('treats empty values as unset', () => {
    expect(sut({ PORT: '', DATABASE_URL: '  ' })).toMatchObject({ port: 3000, database: { kind: 'embedded' } });
  });

  it.each([
    [{ PORT: '70000' }, 'PORT must not be greater than 65535'],
    [{ PORT: '12abc' }, 'PORT must be an integer number'],
    [{ PORT: '0x10' }, 'PORT must be an integer number'],
    [{ DB_POOL_SIZE: '1.5' }, 'DB_POOL_SIZE must be an integer number'],
    [{ TOKEN_CACHE_TTL_MS: '5000' }, 'TOKEN_CACHE_TTL_MS must not be greater than 2000'],
    [{ WORKER_NAMES_CACHE_TTL_MS: '2001' }, 'WORKER_NAMES_CACHE_TTL_MS must not be greater than 2000'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL must start with postgres:// or postgresql://'],
    [{ WS_IDLE_TIMEOUT_MS: '999' }, 'WS_IDLE_TIMEOUT_MS must not be less than 1000'],
    [{ WS_IDLE_TIMEOUT_MS: '86400001' }, 'WS_IDLE_TIMEOUT_MS must not be greater than 86400000'],
    [{ WS_IDLE_TIMEOUT_MS: '5m' }, 'WS_IDLE_TIMEOUT_MS must be an integer number'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of the following values'],
  ])('refuses %j with a message naming the variable', (env, message) => {
    expect(() => sut(env)).toThrow(ConfigError);
    expect(() => sut(env)).toThrow(message);
  });
});
