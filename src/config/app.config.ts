import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { plainToInstance } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, validateSync } from 'class-validator';

/** Where the records live: an embedded PGlite directory or a PostgreSQL server. */
export type DatabaseTarget =
  | { kind: 'embedded'; dataDir: string }
  | { kind: 'postgres'; url: string };

export interface AppConfig {
  port: number;
  host: string;
  database: DatabaseTarget;
  /** Largest number of pooled connections to a PostgreSQL server. */
  poolSize: number;
  /** A statement running longer than this is cancelled and reported as a database error. */
  statementTimeoutMs: number;
  /** Longest wait for a connection, a free pooled one or a new one; past it the call gets 103 (DB_POOL_WAIT_MS, default 5000). */
  poolWaitMs: number;
  /** How long a cached token stays trusted before it is read again. */
  tokenCacheTtlMs: number;
  /**
   * How long the worker names found under a token's wildcard patterns are
   * reused by reads that name no worker: a worker's very first result shows
   * in such reads within this time (named reads and deletes are never cached).
   */
  workerNamesCacheTtlMs: number;
  logLevel: string;
  /** Worker threads that run JS worker scripts (JS_WORKER_POOL_SIZE, default: CPU count). */
  jsWorkerPoolSize: number;
  /** Runs allowed to wait for a free thread before js-worker_run refuses (JS_WORKER_MAX_QUEUE, default 1000). */
  jsWorkerMaxQueue: number;
  /** A WebSocket connection that sends no frame for this long (and has no call in flight) is closed (WS_IDLE_TIMEOUT_MS, default 300000). */
  wsIdleTimeoutMs: number;
  /** Audit entries older than this many days are pruned; 0 keeps them all (AUDIT_KEEP_DAYS, default 365). */
  auditKeepDays: number;
  /** js-result_wait calls waiting at once on one process; past it a call is refused with 108 (JS_RESULT_MAX_WAITERS, default 10000). */
  jsResultMaxWaiters: number;
  /** How often retention policies are applied (RETENTION_SWEEP_INTERVAL_MS, default 60000). */
  retentionSweepIntervalMs: number;
  /** What password logins (`username|password`) may cost: see LoginLimits. */
  login: LoginLimits;
  /** How large replies may be, and what large reads may hold at once: see ResponseLimits. */
  responses: ResponseLimits;
  /** What one HTTP client may hold of the server: see HttpLimits. */
  http: HttpLimits;
}

const MiB = 1024 * 1024;

/** Bounds on what one request's answers, and all large reads together, may hold in memory. */
export interface ResponseLimits {
  /** Bytes of reply one request (HTTP body or WebSocket frame, a call or a batch) may be answered with (MAX_RESPONSE_BYTES). */
  maxResponseBytes: number;
  /** Bytes of reply any one call may be answered with (MAX_CALL_RESPONSE_BYTES). */
  maxCallResponseBytes: number;
  /** Bytes that reads above 1000 rows may bring in at once, over all requests (LARGE_READ_MEMORY_BYTES). */
  largeReadMemoryBytes: number;
  /** Reads above 1000 rows that run at once, over all requests (LARGE_READ_MAX_CONCURRENT). */
  largeReadMaxConcurrent: number;
  /**
   * Bytes of notifications and replies left unread by all subscribers' connections together, at most:
   * past a third of it the subscribers with the most unread are closed (SUBSCRIPTION_MAX_QUEUED_BYTES).
   */
  subscriptionMaxQueuedBytes: number;
}

export const DEFAULT_RESPONSE_LIMITS: ResponseLimits = {
  maxResponseBytes: 32 * MiB,
  // A 10,000-row read of small records is a few MiB: room to spare.
  maxCallResponseBytes: 16 * MiB,
  // Two reads of the largest answer at once, as the earlier two-slot limit allowed.
  largeReadMemoryBytes: 32 * MiB,
  // Half the cores: the database assembles each such answer at a core's full speed, and the
  // other half keeps serving everyone else (two at once on two cores took S1's p99 from 21 to 58 ms).
  largeReadMaxConcurrent: Math.max(1, Math.floor(availableParallelism() / 2)),
  // An eighth of the 1 GiB the process is held to under hostile load (the chaos suite's ceiling): each
  // queued byte also costs its frame's copy and the garbage of the sends, and a quarter let 60
  // non-reading connections take the process to 1,054 MiB in one chaos run.
  subscriptionMaxQueuedBytes: 128 * MiB,
};

/** Bounds on HTTP connections, against slow and numerous clients. */
export interface HttpLimits {
  /** A client must have sent a request's headers within this (HTTP_HEADERS_TIMEOUT_MS). */
  headersTimeoutMs: number;
  /** A client must have sent a whole request, body included, within this (HTTP_REQUEST_TIMEOUT_MS). */
  requestTimeoutMs: number;
  /** Connections (HTTP and WebSocket) open at once; past it a new one is closed at once (HTTP_MAX_CONNECTIONS). */
  maxConnections: number;
  /** Requests one keep-alive connection may carry before it is closed; 0 for no limit (HTTP_MAX_REQUESTS_PER_SOCKET). */
  maxRequestsPerSocket: number;
  /**
   * A client must take its replies: an HTTP reply not all sent within this, or
   * WebSocket frames waiting this long with none of them taken, and the
   * connection is dropped (HTTP_SEND_TIMEOUT_MS).
   */
  sendTimeoutMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxConnections: 10_000,
  maxRequestsPerSocket: 10_000,
  sendTimeoutMs: 30_000,
};

/** Bounds on password checks (scrypt), so that guessing cannot take the process's CPU or lock real users out. */
export interface LoginLimits {
  /** Password hashes computed at once (LOGIN_MAX_CONCURRENT_HASHES). */
  maxConcurrentHashes: number;
  /** Logins that may wait for a hash slot before more are refused (LOGIN_MAX_QUEUED_HASHES). */
  maxQueuedHashes: number;
  /** Distinct usernames one request (HTTP body or WebSocket frame) may log in as (LOGIN_MAX_ACCOUNTS_PER_REQUEST). */
  maxAccountsPerRequest: number;
  /** Failed logins per client address per minute before it is blocked (LOGIN_FAILURES_PER_ADDRESS). */
  failuresPerAddress: number;
  /** How long such an address is refused (LOGIN_ADDRESS_BLOCK_MS). */
  addressBlockMs: number;
  /** Failed logins per username before each further one doubles its wait (LOGIN_FAILURES_PER_USERNAME). */
  failuresPerUsername: number;
  /** The longest a username waits (LOGIN_USERNAME_BACKOFF_MAX_MS). */
  usernameBackoffMaxMs: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  // Half the cores, so that the event loop keeps the others, and at most two of libuv's four threads.
  maxConcurrentHashes: Math.max(1, Math.min(2, Math.floor(availableParallelism() / 2))),
  maxQueuedHashes: 64,
  maxAccountsPerRequest: 4,
  failuresPerAddress: 20,
  addressBlockMs: 60_000,
  failuresPerUsername: 5,
  usernameBackoffMaxMs: 300_000,
};

/** DB_POOL_WAIT_MS when unset. */
export const DEFAULT_DB_POOL_WAIT_MS = 5_000;

/** WS_IDLE_TIMEOUT_MS when unset: five minutes. */
export const DEFAULT_WS_IDLE_TIMEOUT_MS = 300_000;

/** AUDIT_KEEP_DAYS when unset: a year. */
export const DEFAULT_AUDIT_KEEP_DAYS = 365;

/** JS_RESULT_MAX_WAITERS when unset. */
export const DEFAULT_JS_RESULT_MAX_WAITERS = 10_000;

/** RETENTION_SWEEP_INTERVAL_MS when unset: a minute, so expired results go within the promised 2 minutes. */
export const DEFAULT_RETENTION_SWEEP_INTERVAL_MS = 60_000;

export class ConfigError extends Error {}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** The environment the service reads, with the bounds each value must respect. */
class EnvironmentVariables {
  @IsOptional() @IsInt() @Min(0) @Max(65_535) PORT?: number;
  @IsOptional() @IsString() HOST?: string;
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must start with postgres:// or postgresql://' })
  DATABASE_URL?: string;
  @IsOptional() @IsString() DATA_DIR?: string;
  @IsOptional() @IsInt() @Min(1) @Max(1_000) DB_POOL_SIZE?: number;
  @IsOptional() @IsInt() @Min(100) @Max(3_600_000) DB_STATEMENT_TIMEOUT_MS?: number;
  // Bounded so that no call waits for a connection longer than a client would wait for an answer.
  @IsOptional() @IsInt() @Min(100) @Max(60_000) DB_POOL_WAIT_MS?: number;
  // The contract promises that token changes take effect within 2 seconds.
  @IsOptional() @IsInt() @Min(0) @Max(2_000) TOKEN_CACHE_TTL_MS?: number;
  // Same bound as tokens: a new worker shows in wildcard reads within 2 seconds.
  @IsOptional() @IsInt() @Min(0) @Max(2_000) WORKER_NAMES_CACHE_TTL_MS?: number;
  @IsOptional() @IsIn(LOG_LEVELS) LOG_LEVEL?: string;
  @IsOptional() @IsInt() @Min(1) @Max(256) JS_WORKER_POOL_SIZE?: number;
  @IsOptional() @IsInt() @Min(0) @Max(1_000_000) JS_WORKER_MAX_QUEUE?: number;
  // At least a second (a shorter idle limit would close connections between ordinary calls), at most a day.
  @IsOptional() @IsInt() @Min(1_000) @Max(86_400_000) WS_IDLE_TIMEOUT_MS?: number;
  @IsOptional() @IsInt() @Min(0) @Max(36_500) AUDIT_KEEP_DAYS?: number;
  @IsOptional() @IsInt() @Min(1) @Max(1_000_000) JS_RESULT_MAX_WAITERS?: number;
  // Tests sweep every few hundred ms; a sweep less often than daily would not keep the 2-minute promise anyway.
  @IsOptional() @IsInt() @Min(100) @Max(86_400_000) RETENTION_SWEEP_INTERVAL_MS?: number;
  // Each hash takes a core for ~50 ms: more at once than cores would starve every other caller.
  @IsOptional() @IsInt() @Min(1) @Max(64) LOGIN_MAX_CONCURRENT_HASHES?: number;
  @IsOptional() @IsInt() @Min(0) @Max(100_000) LOGIN_MAX_QUEUED_HASHES?: number;
  @IsOptional() @IsInt() @Min(1) @Max(1_000) LOGIN_MAX_ACCOUNTS_PER_REQUEST?: number;
  @IsOptional() @IsInt() @Min(1) @Max(1_000_000) LOGIN_FAILURES_PER_ADDRESS?: number;
  @IsOptional() @IsInt() @Min(1_000) @Max(86_400_000) LOGIN_ADDRESS_BLOCK_MS?: number;
  @IsOptional() @IsInt() @Min(1) @Max(1_000_000) LOGIN_FAILURES_PER_USERNAME?: number;
  // A cap, so that an attacker can delay a real user's login by this much at most, never forever.
  @IsOptional() @IsInt() @Min(1_000) @Max(86_400_000) LOGIN_USERNAME_BACKOFF_MAX_MS?: number;
  // 1 KiB still answers a short read of small records; past 512 MiB one request alone could end the process.
  @IsOptional() @IsInt() @Min(1024) @Max(512 * MiB) MAX_RESPONSE_BYTES?: number;
  @IsOptional() @IsInt() @Min(1024) @Max(512 * MiB) MAX_CALL_RESPONSE_BYTES?: number;
  @IsOptional() @IsInt() @Min(1024) @Max(1024 * MiB) LARGE_READ_MEMORY_BYTES?: number;
  @IsOptional() @IsInt() @Min(1) @Max(1024) LARGE_READ_MAX_CONCURRENT?: number;
  @IsOptional() @IsInt() @Min(64 * 1024) @Max(4096 * MiB) SUBSCRIPTION_MAX_QUEUED_BYTES?: number;
  @IsOptional() @IsInt() @Min(100) @Max(600_000) HTTP_HEADERS_TIMEOUT_MS?: number;
  @IsOptional() @IsInt() @Min(100) @Max(3_600_000) HTTP_REQUEST_TIMEOUT_MS?: number;
  @IsOptional() @IsInt() @Min(1) @Max(1_000_000) HTTP_MAX_CONNECTIONS?: number;
  @IsOptional() @IsInt() @Min(0) @Max(1_000_000) HTTP_MAX_REQUESTS_PER_SOCKET?: number;
  @IsOptional() @IsInt() @Min(100) @Max(3_600_000) HTTP_SEND_TIMEOUT_MS?: number;
}

const NUMERIC = new Set([
  'PORT',
  'DB_POOL_SIZE',
  'DB_STATEMENT_TIMEOUT_MS',
  'DB_POOL_WAIT_MS',
  'TOKEN_CACHE_TTL_MS',
  'WORKER_NAMES_CACHE_TTL_MS',
  'JS_WORKER_POOL_SIZE',
  'JS_WORKER_MAX_QUEUE',
  'WS_IDLE_TIMEOUT_MS',
  'AUDIT_KEEP_DAYS',
  'JS_RESULT_MAX_WAITERS',
  'RETENTION_SWEEP_INTERVAL_MS',
  'LOGIN_MAX_CONCURRENT_HASHES',
  'LOGIN_MAX_QUEUED_HASHES',
  'LOGIN_MAX_ACCOUNTS_PER_REQUEST',
  'LOGIN_FAILURES_PER_ADDRESS',
  'LOGIN_ADDRESS_BLOCK_MS',
  'LOGIN_FAILURES_PER_USERNAME',
  'LOGIN_USERNAME_BACKOFF_MAX_MS',
  'MAX_RESPONSE_BYTES',
  'MAX_CALL_RESPONSE_BYTES',
  'LARGE_READ_MEMORY_BYTES',
  'LARGE_READ_MAX_CONCURRENT',
  'SUBSCRIPTION_MAX_QUEUED_BYTES',
  'HTTP_HEADERS_TIMEOUT_MS',
  'HTTP_REQUEST_TIMEOUT_MS',
  'HTTP_MAX_CONNECTIONS',
  'HTTP_MAX_REQUESTS_PER_SOCKET',
  'HTTP_SEND_TIMEOUT_MS',
]);

const TEXTUAL = ['HOST', 'DATABASE_URL', 'DATA_DIR', 'LOG_LEVEL'];

/** Known variables only, trimmed; empty means unset. Numbers must be written as plain integers. */
function knownVariables(env: NodeJS.ProcessEnv): Record<string, string | number> {
  const known: Record<string, string | number> = {};
  for (const name of [...NUMERIC, ...TEXTUAL]) {
    const raw = env[name]?.trim();
    if (!raw) continue;
    // Number('') is 0 and Number('0x10') is 16: only plain decimal integers count as numbers.
    known[name] = NUMERIC.has(name) ? (/^-?\d+$/.test(raw) ? Number(raw) : Number.NaN) : raw;
  }
  return known;
}

function validatedEnvironment(env: NodeJS.ProcessEnv): EnvironmentVariables {
  const values = plainToInstance(EnvironmentVariables, knownVariables(env));
  const errors = validateSync(values);
  if (errors.length > 0) {
    const messages = errors.flatMap((e) => Object.values(e.constraints ?? {}).map((m) => `${m} (got '${env[e.property]?.trim()}')`));
    throw new ConfigError(`invalid configuration: ${messages.join('; ')}`);
  }
  return values;
}

export function databaseTargetFrom(env: { DATABASE_URL?: string; DATA_DIR?: string }): DatabaseTarget {
  if (env.DATABASE_URL) return { kind: 'postgres', url: env.DATABASE_URL };
  const dataDir = env.DATA_DIR || './data';
  // `memory://` is PGlite's in-memory database: nothing on disk, gone when the process ends.
  return { kind: 'embedded', dataDir: dataDir === 'memory://' ? dataDir : resolve(dataDir) };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const vars = validatedEnvironment(env);
  return {
    port: vars.PORT ?? 3000,
    host: vars.HOST ?? '0.0.0.0',
    database: databaseTargetFrom(vars),
    poolSize: vars.DB_POOL_SIZE ?? 10,
    statementTimeoutMs: vars.DB_STATEMENT_TIMEOUT_MS ?? 10_000,
    poolWaitMs: vars.DB_POOL_WAIT_MS ?? DEFAULT_DB_POOL_WAIT_MS,
    tokenCacheTtlMs: vars.TOKEN_CACHE_TTL_MS ?? 1_000,
    workerNamesCacheTtlMs: vars.WORKER_NAMES_CACHE_TTL_MS ?? 1_000,
    logLevel: vars.LOG_LEVEL ?? 'info',
    jsWorkerPoolSize: vars.JS_WORKER_POOL_SIZE ?? availableParallelism(),
    jsWorkerMaxQueue: vars.JS_WORKER_MAX_QUEUE ?? 1000,
    wsIdleTimeoutMs: vars.WS_IDLE_TIMEOUT_MS ?? DEFAULT_WS_IDLE_TIMEOUT_MS,
    auditKeepDays: vars.AUDIT_KEEP_DAYS ?? DEFAULT_AUDIT_KEEP_DAYS,
    jsResultMaxWaiters: vars.JS_RESULT_MAX_WAITERS ?? DEFAULT_JS_RESULT_MAX_WAITERS,
    retentionSweepIntervalMs: vars.RETENTION_SWEEP_INTERVAL_MS ?? DEFAULT_RETENTION_SWEEP_INTERVAL_MS,
    login: loginLimitsFrom(vars),
    responses: {
      maxResponseBytes: vars.MAX_RESPONSE_BYTES ?? DEFAULT_RESPONSE_LIMITS.maxResponseBytes,
      maxCallResponseBytes: vars.MAX_CALL_RESPONSE_BYTES ?? DEFAULT_RESPONSE_LIMITS.maxCallResponseBytes,
      largeReadMemoryBytes: vars.LARGE_READ_MEMORY_BYTES ?? DEFAULT_RESPONSE_LIMITS.largeReadMemoryBytes,
      largeReadMaxConcurrent: vars.LARGE_READ_MAX_CONCURRENT ?? DEFAULT_RESPONSE_LIMITS.largeReadMaxConcurrent,
      subscriptionMaxQueuedBytes: vars.SUBSCRIPTION_MAX_QUEUED_BYTES ?? DEFAULT_RESPONSE_LIMITS.subscriptionMaxQueuedBytes,
    },
    http: {
      headersTimeoutMs: vars.HTTP_HEADERS_TIMEOUT_MS ?? DEFAULT_HTTP_LIMITS.headersTimeoutMs,
      requestTimeoutMs: vars.HTTP_REQUEST_TIMEOUT_MS ?? DEFAULT_HTTP_LIMITS.requestTimeoutMs,
      maxConnections: vars.HTTP_MAX_CONNECTIONS ?? DEFAULT_HTTP_LIMITS.maxConnections,
      maxRequestsPerSocket: vars.HTTP_MAX_REQUESTS_PER_SOCKET ?? DEFAULT_HTTP_LIMITS.maxRequestsPerSocket,
      sendTimeoutMs: vars.HTTP_SEND_TIMEOUT_MS ?? DEFAULT_HTTP_LIMITS.sendTimeoutMs,
    },
  };
}

function loginLimitsFrom(vars: EnvironmentVariables): LoginLimits {
  const defaults = DEFAULT_LOGIN_LIMITS;
  return {
    maxConcurrentHashes: vars.LOGIN_MAX_CONCURRENT_HASHES ?? defaults.maxConcurrentHashes,
    maxQueuedHashes: vars.LOGIN_MAX_QUEUED_HASHES ?? defaults.maxQueuedHashes,
    maxAccountsPerRequest: vars.LOGIN_MAX_ACCOUNTS_PER_REQUEST ?? defaults.maxAccountsPerRequest,
    failuresPerAddress: vars.LOGIN_FAILURES_PER_ADDRESS ?? defaults.failuresPerAddress,
    addressBlockMs: vars.LOGIN_ADDRESS_BLOCK_MS ?? defaults.addressBlockMs,
    failuresPerUsername: vars.LOGIN_FAILURES_PER_USERNAME ?? defaults.failuresPerUsername,
    usernameBackoffMaxMs: vars.LOGIN_USERNAME_BACKOFF_MAX_MS ?? defaults.usernameBackoffMaxMs,
  };
}

export const APP_CONFIG = Symbol('APP_CONFIG');
