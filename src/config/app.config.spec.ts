import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  describe('secrets from files (<NAME>_FILE)', () => {
    let dir: string;
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'jsr-config-'));
    });

    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('reads DATABASE_URL_FILE and METRICS_TOKEN_FILE, less one trailing newline', () => {
      const config = sut({ DATABASE_URL_FILE: file('url', 'postgres://u:pw@h:5432/db\n'), METRICS_TOKEN_FILE: file('m', 'scrape-me-0123456789\r\n') });
      expect(config.database).toEqual({ kind: 'postgres', url: 'postgres://u:pw@h:5432/db' });
      expect(config.metrics.token).toBe('scrape-me-0123456789');
    });

    it.each([
      ['both set', () => ({ DATABASE_URL: 'postgres://a@h/db', DATABASE_URL_FILE: file('url', 'postgres://b@h/db') }), 'DATABASE_URL and DATABASE_URL_FILE are both set'],
      ['an empty file', () => ({ DATABASE_URL_FILE: file('url', '\n') }), 'DATABASE_URL_FILE: '],
      ['a missing file', () => ({ DATABASE_URL_FILE: join(dir, 'absent') }), 'cannot be read (ENOENT)'],
      ['a directory', () => ({ METRICS_TOKEN_FILE: dir }), 'METRICS_TOKEN_FILE: '],
    ])('stops the start naming the variable for %s', (_, env, message) => {
      expect(() => sut(env())).toThrow(ConfigError);
      expect(() => sut(env())).toThrow(message);
    });

    it('never echoes a secret read from a file, even when it is invalid', () => {
      const env = { DATABASE_URL_FILE: file('url', 'mysql://u:hunter2@h/db') };
      expect(() => sut(env)).toThrow('DATABASE_URL must start with postgres:// or postgresql://');
      expect(() => sut(env)).not.toThrow('hunter2');
    });

    it('takes SUPER_TOKEN_FILE as a path, resolved, and leaves it unset by default', () => {
      expect(sut({}).superTokenFile).toBeUndefined();
      expect(sut({ SUPER_TOKEN_FILE: 'secrets/super' }).superTokenFile).toBe(join(process.cwd(), 'secrets/super'));
    });
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

  it('hashes new passwords at SCRYPT_COST, OWASP\'s minimum (2^17) by default and at least', () => {
    expect(sut({}).scryptCost).toBe(17);
    expect(sut({ SCRYPT_COST: '18' }).scryptCost).toBe(18);
    expect(() => sut({ SCRYPT_COST: '14' })).toThrow('SCRYPT_COST must not be less than 17');
    expect(() => sut({ SCRYPT_COST: '21' })).toThrow('SCRYPT_COST must not be greater than 20');
  });

  it('drains for SHUTDOWN_DRAIN_MS (5 s) and waits SHUTDOWN_TIMEOUT_MS (10 s) for calls in flight', () => {
    expect(sut({}).shutdown).toEqual({ drainMs: 5_000, timeoutMs: 10_000 });
    expect(sut({ SHUTDOWN_DRAIN_MS: '0', SHUTDOWN_TIMEOUT_MS: '30000' }).shutdown).toEqual({ drainMs: 0, timeoutMs: 30_000 });
  });

  it('sends no CORS headers unless CORS_ORIGINS is set, and keeps its origins as browsers send them', () => {
    expect(sut({}).corsOrigins).toEqual([]);
    expect(sut({ CORS_ORIGINS: ' * ' }).corsOrigins).toEqual(['*']);
    expect(sut({ CORS_ORIGINS: 'https://Dash.Example.com:443, http://localhost:8080,https://dash.example.com' }).corsOrigins).toEqual([
      'https://dash.example.com',
      'http://localhost:8080',
    ]);
    expect(sut({ CORS_ORIGINS: 'http://[::1]:3000' }).corsOrigins).toEqual(['http://[::1]:3000']);
  });

  it.each([
    'dash.example.com',
    'https://dash.example.com/',
    'https://dash.example.com/app',
    'https://user@dash.example.com',
    'https://dash.example.com:70000',
    'ftp://dash.example.com',
    'https://a.example.com,*',
    'https://a.example.com,,https://b.example.com',
    'null',
  ])('refuses CORS_ORIGINS=%j, naming the variable', (value) => {
    expect(() => sut({ CORS_ORIGINS: value })).toThrow(ConfigError);
    expect(() => sut({ CORS_ORIGINS: value })).toThrow('CORS_ORIGINS must be * or a comma-separated list of origins');
  });

  it('logs no call by default; ACCESS_LOG=true logs each, SLOW_CALL_MS those slower than it', () => {
    expect(sut({}).logs).toEqual({ accessLog: false, slowCallMs: 0 });
    expect(sut({ ACCESS_LOG: 'true', SLOW_CALL_MS: '250' }).logs).toEqual({ accessLog: true, slowCallMs: 250 });
    expect(sut({ ACCESS_LOG: 'false' }).logs.accessLog).toBe(false);
  });

  it("gives scripts' injected API its defaults, or WORKER_LOG_LEVEL, WORKER_FETCH_ALLOW and the INLINE_CALL_* limits", () => {
    expect(sut({}).workerApi).toEqual({ logLevel: 'info', fetchAllow: [], inlineCallMaxDepth: 8, inlineCallMaxPerRun: 100, nodegetMaxReplyBytesPerRun: 16 * 1024 * 1024 });
    expect(
      sut({ WORKER_LOG_LEVEL: 'warn', WORKER_FETCH_ALLOW: ' API.example.com:443, *.example.org ,127.0.0.1:8080', INLINE_CALL_MAX_DEPTH: '3', INLINE_CALL_MAX_PER_RUN: '0' }).workerApi,
    ).toEqual({ logLevel: 'warn', fetchAllow: ['api.example.com:443', '*.example.org', '127.0.0.1:8080'], inlineCallMaxDepth: 3, inlineCallMaxPerRun: 0, nodegetMaxReplyBytesPerRun: 16 * 1024 * 1024 });
  });

  it('trusts no proxy by default; TRUST_PROXY takes a hop count or a list of addresses and CIDR ranges', () => {
    expect(sut({}).trustProxy).toBe(false);
    expect(sut({ TRUST_PROXY: '0' }).trustProxy).toBe(false);
    expect(sut({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(sut({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.7,fd00::/8, loopback' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '192.168.1.7',
      'fd00::/8',
      'loopback',
    ]);
  });

  it('leaves /metrics open on the public port unless METRICS_TOKEN or METRICS_PORT is set', () => {
    expect(sut({}).metrics).toEqual({ token: undefined, port: undefined });
    expect(sut({ METRICS_TOKEN: 'scrape-me-0123456789', METRICS_PORT: '9464' }).metrics).toEqual({
      token: 'scrape-me-0123456789',
      port: 9464,
    });
    expect(() => sut({ PORT: '9464', METRICS_PORT: '9464' })).toThrow('METRICS_PORT must differ from PORT');
  });

  it('serves worker routes with NodeGet\'s 8 MiB body limit unless told otherwise, and turns them off with WORKER_ROUTES=off', () => {
    expect(sut({}).workerRoutes).toEqual({ enabled: true, maxBodyBytes: 8 * 1024 * 1024, maxConcurrent: 32, maxConcurrentPerRoute: 16 });
    expect(
      sut({ WORKER_ROUTES: 'off', WORKER_ROUTE_MAX_BODY_BYTES: '65536', WORKER_ROUTE_MAX_CONCURRENT: '4', WORKER_ROUTE_MAX_CONCURRENT_PER_ROUTE: '8' })
        .workerRoutes,
    ).toEqual({ enabled: false, maxBodyBytes: 65536, maxConcurrent: 4, maxConcurrentPerRoute: 4 });
  });

  it.each([
    [{ WORKER_ROUTES: 'no' }, 'WORKER_ROUTES must be on or off'],
    [{ WORKER_ROUTE_MAX_BODY_BYTES: '1023' }, 'WORKER_ROUTE_MAX_BODY_BYTES must not be less than 1024'],
    [{ WORKER_ROUTE_MAX_BODY_BYTES: '8MiB' }, 'WORKER_ROUTE_MAX_BODY_BYTES must be an integer number'],
    [{ WORKER_ROUTE_MAX_CONCURRENT: '0' }, 'WORKER_ROUTE_MAX_CONCURRENT must not be less than 1'],
    [{ WORKER_ROUTE_MAX_CONCURRENT_PER_ROUTE: '10001' }, 'WORKER_ROUTE_MAX_CONCURRENT_PER_ROUTE must not be greater than 10000'],
  ])('refuses worker route settings %j with a message naming the variable', (env, message) => {
    expect(() => sut(env)).toThrow(ConfigError);
    expect(() => sut(env)).toThrow(message);
  });

  it('never echoes a malformed METRICS_TOKEN', () => {
    expect(() => sut({ METRICS_TOKEN: 'short secret' })).toThrow('METRICS_TOKEN must be 16 to 512 visible ASCII characters');
    expect(() => sut({ METRICS_TOKEN: 'short secret' })).not.toThrow('short secret');
  });

  it.each([
    [{ ACCESS_LOG: 'yes' }, 'ACCESS_LOG must be true or false'],
    [{ SLOW_CALL_MS: '-1' }, 'SLOW_CALL_MS must not be less than 0'],
    [{ SLOW_CALL_MS: '1s' }, 'SLOW_CALL_MS must be an integer number'],
    [{ SLOW_CALL_MS: '3600001' }, 'SLOW_CALL_MS must not be greater than 3600000'],
    [{ TRUST_PROXY: 'true' }, 'TRUST_PROXY must be a hop count'],
    [{ TRUST_PROXY: '33' }, 'TRUST_PROXY must be a hop count'],
    [{ TRUST_PROXY: '10.0.0.0/33' }, 'TRUST_PROXY must be a hop count'],
    [{ TRUST_PROXY: '10.0.0.1,,10.0.0.2' }, 'TRUST_PROXY must be a hop count'],
    [{ TRUST_PROXY: 'proxy.example.com' }, 'TRUST_PROXY must be a hop count'],
    [{ METRICS_PORT: '0' }, 'METRICS_PORT must not be less than 1'],
    [{ METRICS_PORT: '70000' }, 'METRICS_PORT must not be greater than 65535'],
  ])('refuses %j with a message naming the variable', (env, message) => {
    expect(() => sut(env)).toThrow(ConfigError);
    expect(() => sut(env)).toThrow(message);
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
    [{ WORKER_LOG_LEVEL: 'fatal' }, 'WORKER_LOG_LEVEL must be one of the following values'],
    [{ WORKER_FETCH_ALLOW: 'https://example.com' }, 'WORKER_FETCH_ALLOW must be a comma-separated list of host patterns'],
    [{ WORKER_FETCH_ALLOW: 'example.com/path' }, 'WORKER_FETCH_ALLOW must be a comma-separated list of host patterns'],
    [{ INLINE_CALL_MAX_DEPTH: '0' }, 'INLINE_CALL_MAX_DEPTH must not be less than 1'],
    [{ INLINE_CALL_MAX_PER_RUN: 'many' }, 'INLINE_CALL_MAX_PER_RUN must be an integer number'],
    [{ SHUTDOWN_DRAIN_MS: '-1' }, 'SHUTDOWN_DRAIN_MS must not be less than 0'],
    [{ SHUTDOWN_DRAIN_MS: '300001' }, 'SHUTDOWN_DRAIN_MS must not be greater than 300000'],
    [{ SHUTDOWN_DRAIN_MS: '5s' }, 'SHUTDOWN_DRAIN_MS must be an integer number'],
    [{ SHUTDOWN_TIMEOUT_MS: '600001' }, 'SHUTDOWN_TIMEOUT_MS must not be greater than 600000'],
    [{ SHUTDOWN_TIMEOUT_MS: '-5' }, 'SHUTDOWN_TIMEOUT_MS must not be less than 0'],
  ])('refuses %j with a message naming the variable', (env, message) => {
    expect(() => sut(env)).toThrow(ConfigError);
    expect(() => sut(env)).toThrow(message);
  });
});
