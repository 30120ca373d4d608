import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { plainToInstance } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  Validate,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
  validateSync,
} from 'class-validator';
import { parseTrustProxy, type TrustProxy } from './trust-proxy';

/** Where the records live: an embedded PGlite directory or a PostgreSQL server. */
/** OWASP's minimum for scrypt (N = 2^17, r = 8, p = 1): SCRYPT_COST when unset, and the least it may be set to. */
export const DEFAULT_SCRYPT_COST = 17;

export type DatabaseTarget =
  | { kind: 'embedded'; dataDir: string }
  | { kind: 'postgres'; url: string };

export interface AppConfig {
  port: number;
  host: string;
  database: DatabaseTarget;
  /**
   * A file holding the super token's `key:secret`: set to it at start, or created (mode 0600) with a new
   * one that is then not printed (SUPER_TOKEN_FILE, default unset: created once and printed once).
   */
  superTokenFile?: string;
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
  /** Scheduled jobs allowed; crontab_create refuses beyond it with 108 (CRONTAB_MAX_JOBS, default 10000). */
  crontabMaxJobs?: number;
  /** What scripts' injected API may do (inlineCall, nodegetLog, fetch); DEFAULT_WORKER_API_SETTINGS when absent. */
  workerApi?: WorkerApiSettings;
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
  /**
   * log2 of scrypt's N for new password hashes; stored hashes keep theirs until their next login rehashes them
   * (SCRYPT_COST, default and least 17: OWASP's minimum; only tests set it lower, in code).
   */
  scryptCost: number;
  /** How large replies may be, and what large reads may hold at once: see ResponseLimits. */
  responses: ResponseLimits;
  /** What one HTTP client may hold of the server: see HttpLimits. */
  http: HttpLimits;
  /** How the server stops on SIGTERM (or app.close()): see ShutdownTimings. */
  shutdown: ShutdownTimings;
  /**
   * Origins (`https://host[:port]`, normalised) whose browser pages may call the service, or `['*']`
   * for any; empty: no CORS headers at all (CORS_ORIGINS).
   */
  corsOrigins: readonly string[];
  /** Access and slow-call logs: see LogSettings. */
  logs: LogSettings;
  /** Proxies believed about the client's address in `x-forwarded-for` (TRUST_PROXY, default none). */
  trustProxy: TrustProxy;
  /** Who may read /metrics, and on which port: see MetricsSettings. */
  metrics: MetricsSettings;
  /** Workers' unauthenticated HTTP routes (`/nodeget/worker-route/...`): see WorkerRouteSettings. */
  workerRoutes: WorkerRouteSettings;
  /** Whether pending migrations are applied at start; only an embedding application turns it off (default true). */
  migrationsRun?: boolean;
}

/** What the worker HTTP routes may take of the server. */
export interface WorkerRouteSettings {
  /** Whether the routes are served at all; off, every route path is a plain 404 (WORKER_ROUTES, on or off). */
  enabled: boolean;
  /** Largest request body a route reads, and largest response body a handler may return; 413 beyond (WORKER_ROUTE_MAX_BODY_BYTES). */
  maxBodyBytes: number;
  /** Route requests running at once over all routes; 503 with Retry-After beyond (WORKER_ROUTE_MAX_CONCURRENT). */
  maxConcurrent: number;
  /** Route requests running at once for one route (WORKER_ROUTE_MAX_CONCURRENT_PER_ROUTE). */
  maxConcurrentPerRoute: number;
}

export const DEFAULT_WORKER_ROUTE_SETTINGS: WorkerRouteSettings = {
  enabled: true,
  // NodeGet's limit.
  maxBodyBytes: 8 * 1024 * 1024,
  // Each request in flight may hold a full body: 32 of 8 MiB stay well inside the memory the process is held to.
  maxConcurrent: 32,
  // Half the total, so that one busy route leaves the others room.
  maxConcurrentPerRoute: 16,
};

/** What is logged per JSON-RPC call, besides failures. */
export interface LogSettings {
  /** One line per call: method, id, code, duration, peer, token key (ACCESS_LOG, default false). */
  accessLog: boolean;
  /** Calls slower than this are logged at warn whatever accessLog says; 0 for never (SLOW_CALL_MS). */
  slowCallMs: number;
  /** Where log lines go instead of stdout; set by tests, never from the environment. */
  destination?: { write(line: string): unknown };
}

export interface WorkerApiSettings {
  /** Lowest nodegetLog level written to the server's log, or silent (WORKER_LOG_LEVEL, default info). */
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Host patterns scripts may fetch from (WORKER_FETCH_ALLOW, comma-separated; default none: fetch refuses). */
  fetchAllow: readonly string[];
  /** Longest chain of inline calls, cycles included (INLINE_CALL_MAX_DEPTH, default 8). */
  inlineCallMaxDepth: number;
  /** Inline calls one top-level run and its callees may make together (INLINE_CALL_MAX_PER_RUN, default 100). */
  inlineCallMaxPerRun: number;
  /** nodeget() reply bytes one run may receive in all (16 MiB; not an environment setting). */
  nodegetMaxReplyBytesPerRun: number;
}

export const DEFAULT_WORKER_API_SETTINGS: WorkerApiSettings = Object.freeze({
  logLevel: 'info',
  fetchAllow: [],
  inlineCallMaxDepth: 8,
  inlineCallMaxPerRun: 100,
  nodegetMaxReplyBytesPerRun: 16 * 1024 * 1024,
});

const WORKER_LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'];
/** `host`, `*.host` or `*`, each with an optional `:port`; IPv6 literals in brackets. */
const FETCH_ALLOW_PATTERN = /^(\*|(\*\.)?[a-z0-9.-]+|\[[0-9a-f:.]+\])(:\d{1,5})?$/i;

export function parseFetchAllow(value: string | undefined): readonly string[] | undefined {
  if (value === undefined) return [];
  const patterns = value.split(',').map((item) => item.trim().toLowerCase()).filter((item) => item !== '');
  return patterns.every((item) => FETCH_ALLOW_PATTERN.test(item)) ? patterns : undefined;
}

export const DEFAULT_LOG_SETTINGS: LogSettings = { accessLog: false, slowCallMs: 0 };

/** Protection of the Prometheus endpoint; both may be set. */
export interface MetricsSettings {
  /** Required as `Authorization: Bearer <token>` to read /metrics (METRICS_TOKEN). */
  token?: string;
  /** /metrics is served on this port of HOST instead of the public one (METRICS_PORT; 0 picks a free one, in tests). */
  port?: number;
}

/** The shutdown sequence: not ready at once, serving on for the drain, then a bounded wait for what is in flight. */
export interface ShutdownTimings {
  /** How long the server goes on serving once not ready, so load balancers stop sending to it (SHUTDOWN_DRAIN_MS). */
  drainMs: number;
  /** After that, how long calls in flight and running JS worker runs get to finish (SHUTDOWN_TIMEOUT_MS). */
  timeoutMs: number;
}

export const DEFAULT_SHUTDOWN_TIMINGS: ShutdownTimings = {
  // Longer than a readiness probe's period (10 s by default in Kubernetes) would be safer still; 5 s with a
  // probe every 2-5 s takes the pod out of the endpoints before it stops accepting.
  drainMs: 5_000,
  // Drain and wait together stay well inside Kubernetes' default 30 s grace period before SIGKILL.
  timeoutMs: 10_000,
};

const MiB = 1024 * 1024;

/** Bounds on what one request's answers, and all large reads together, may hold in memory. */
export interface ResponseLimits {
  /** Bytes of reply one request (HTTP body or WebSocket frame, a call or a batch) may be answered with (MAX_RESPONSE_BYTES). */
  maxResponseBytes: number;
  /** Bytes of reply any one call may be answered with (MAX_CALL_RESPONSE_BYTES). */
  maxCallResponseBytes: number;
  /** Bytes that reads above 1000 rows may bring in at once, over all requests (LARGE_READ_MEMORY_BYTES). */
  largeReadMemoryBytes: number;
  /**
   * Reads above 1000 rows that run at once, over all requests (LARGE_READ_MAX_CONCURRENT; default:
   * half the connection pool, at most the cores, on PostgreSQL, see largeReadConcurrency; half the cores on the embedded database).
   */
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
  // The embedded database's: half the cores. It assembles each such answer at a core's full speed, and the
  // other half keeps serving everyone else (short reads' tail latency grows with each one at once: bench/README.md).
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

/** One origin as a browser sends it: scheme, host and port only (no path, user or query). */
const ORIGIN_SHAPE = /^https?:\/\/[^/?#@\s]+$/i;

/** `https://Host:443` as browsers send it (`https://host`), or undefined when it is not an origin. */
function normalisedOrigin(text: string): string | undefined {
  if (!ORIGIN_SHAPE.test(text)) return undefined;
  try {
    const url = new URL(text);
    return url.origin === 'null' ? undefined : url.origin;
  } catch {
    return undefined;
  }
}

/** CORS_ORIGINS: `*` alone, or a comma list of origins. */
export function parseCorsOrigins(value: string | undefined): readonly string[] | undefined {
  if (value === undefined) return [];
  const entries = value.split(',').map((entry) => entry.trim());
  if (entries.length === 1 && entries[0] === '*') return ['*'];
  const origins = entries.map(normalisedOrigin);
  return origins.every((origin) => origin !== undefined) ? [...new Set(origins as string[])] : undefined;
}

@ValidatorConstraint({ name: 'trustProxy' })
class TrustProxyConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    try {
      parseTrustProxy(String(value));
      return true;
    } catch {
      return false;
    }
  }

  defaultMessage(): string {
    return 'TRUST_PROXY must be a hop count (0 to 32) or a comma-separated list of addresses and CIDR ranges';
  }
}

@ValidatorConstraint({ name: 'fetchAllow' })
class FetchAllowConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && parseFetchAllow(value) !== undefined;
  }

  defaultMessage(): string {
    return 'WORKER_FETCH_ALLOW must be a comma-separated list of host patterns (host, *.host or *, each with an optional :port)';
  }
}

@ValidatorConstraint({ name: 'corsOrigins' })
class CorsOriginsConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && parseCorsOrigins(value) !== undefined;
  }

  defaultMessage(): string {
    return 'CORS_ORIGINS must be * or a comma-separated list of origins like https://host[:port] (no path)';
  }
}

/** The environment the service reads, with the bounds each value must respect. */
class EnvironmentVariables {
  @IsOptional() @IsInt() @Min(0) @Max(65_535) PORT?: number;
  @IsOptional() @IsString() HOST?: string;
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must start with postgres:// or postgresql://' })
  DATABASE_URL?: string;
  @IsOptional() @IsString() DATA_DIR?: string;
  @IsOptional() @IsString() SUPER_TOKEN_FILE?: string;
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
  // Every enabled job is held in memory by every instance's scheduler.
  @IsOptional() @IsInt() @Min(0) @Max(1_000_000) CRONTAB_MAX_JOBS?: number;
  @IsOptional() @IsIn(WORKER_LOG_LEVELS) WORKER_LOG_LEVEL?: WorkerApiSettings['logLevel'];
  @IsOptional() @Validate(FetchAllowConstraint) WORKER_FETCH_ALLOW?: string;
  // Each level holds a thread while it waits; 64 is far beyond any real composition of workers.
  @IsOptional() @IsInt() @Min(1) @Max(64) INLINE_CALL_MAX_DEPTH?: number;
  @IsOptional() @IsInt() @Min(0) @Max(100_000) INLINE_CALL_MAX_PER_RUN?: number;
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
  // Never below OWASP's minimum; at 2^21 one hash takes 2 GiB of memory and seconds of a core.
  @IsOptional() @IsInt() @Min(DEFAULT_SCRYPT_COST) @Max(20) SCRYPT_COST?: number;
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
  // Up to 5 minutes: orchestrators kill a pod that outstays its grace period (30 s by default) anyway.
  @IsOptional() @IsInt() @Min(0) @Max(300_000) SHUTDOWN_DRAIN_MS?: number;
  // 0 interrupts at once; longer than 10 minutes would hold a deploy for a js-result_wait or a run that never ends.
  @IsOptional() @IsInt() @Min(0) @Max(600_000) SHUTDOWN_TIMEOUT_MS?: number;
  @IsOptional() @Validate(CorsOriginsConstraint) CORS_ORIGINS?: string;
  @IsOptional() @IsIn(['true', 'false'], { message: 'ACCESS_LOG must be true or false' }) ACCESS_LOG?: string;
  // Up to an hour: no call lasts longer (js-result_wait, the longest, ends within 60 s).
  @IsOptional() @IsInt() @Min(0) @Max(3_600_000) SLOW_CALL_MS?: number;
  @IsOptional() @Validate(TrustProxyConstraint) TRUST_PROXY?: string;
  // Visible ASCII only, as it travels in a header; long enough not to be guessed.
  @IsOptional()
  @Matches(/^[\x21-\x7e]{16,512}$/, { message: 'METRICS_TOKEN must be 16 to 512 visible ASCII characters without spaces' })
  METRICS_TOKEN?: string;
  @IsOptional() @IsInt() @Min(1) @Max(65_535) METRICS_PORT?: number;
  @IsOptional() @IsIn(['on', 'off'], { message: 'WORKER_ROUTES must be on or off' }) WORKER_ROUTES?: string;
  // 1 KiB still carries a small JSON body; past 64 MiB one request's body, copied into a sandbox, could end the process.
  @IsOptional() @IsInt() @Min(1024) @Max(64 * MiB) WORKER_ROUTE_MAX_BODY_BYTES?: number;
  @IsOptional() @IsInt() @Min(1) @Max(10_000) WORKER_ROUTE_MAX_CONCURRENT?: number;
  @IsOptional() @IsInt() @Min(1) @Max(10_000) WORKER_ROUTE_MAX_CONCURRENT_PER_ROUTE?: number;
}

export const DEFAULT_CRONTAB_MAX_JOBS = 10_000;

const NUMERIC = new Set([
  'PORT',
  'INLINE_CALL_MAX_DEPTH',
  'INLINE_CALL_MAX_PER_RUN',
  'DB_POOL_SIZE',
  'DB_STATEMENT_TIMEOUT_MS',
  'DB_POOL_WAIT_MS',
  'TOKEN_CACHE_TTL_MS',
  'WORKER_NAMES_CACHE_TTL_MS',
  'JS_WORKER_POOL_SIZE',
  'JS_WORKER_MAX_QUEUE',
  'CRONTAB_MAX_JOBS',
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
  'SCRYPT_COST',
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
  'SHUTDOWN_DRAIN_MS',
  'SHUTDOWN_TIMEOUT_MS',
  'SLOW_CALL_MS',
  'METRICS_PORT',
  'WORKER_ROUTE_MAX_BODY_BYTES',
  'WORKER_ROUTE_MAX_CONCURRENT',
  'WORKER_ROUTE_MAX_CONCURRENT_PER_ROUTE',
]);

/** Never echoed in a configuration error; each may instead be read from the file `<NAME>_FILE` names. */
export const SECRET_VARIABLES = new Set(['DATABASE_URL', 'METRICS_TOKEN']);

/**
 * The environment with each `<NAME>_FILE` (Docker and Kubernetes secrets) read
 * into `<NAME>`, less one trailing newline. Both set, or a file that cannot be
 * read or is empty, stops the start naming the variable (never the contents).
 */
export function withSecretFiles(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const resolved: NodeJS.ProcessEnv = { ...env };
  for (const name of SECRET_VARIABLES) {
    const file = env[`${name}_FILE`]?.trim();
    if (!file) continue;
    if (env[name]?.trim()) throw new ConfigError(`invalid configuration: ${name} and ${name}_FILE are both set; set only one of them`);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`invalid configuration: ${name}_FILE: ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    const value = text.replace(/\r?\n$/, '');
    if (value.trim() === '') throw new ConfigError(`invalid configuration: ${name}_FILE: ${file} is empty`);
    resolved[name] = value;
  }
  return resolved;
}

const TEXTUAL = ['HOST', 'DATABASE_URL', 'DATA_DIR', 'SUPER_TOKEN_FILE', 'LOG_LEVEL', 'CORS_ORIGINS', 'ACCESS_LOG', 'TRUST_PROXY', 'METRICS_TOKEN', 'WORKER_ROUTES', 'WORKER_LOG_LEVEL', 'WORKER_FETCH_ALLOW'];

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
    const got = (name: string) => (SECRET_VARIABLES.has(name) ? '' : ` (got '${env[name]?.trim()}')`);
    const messages = errors.flatMap((e) => Object.values(e.constraints ?? {}).map((m) => `${m}${got(e.property)}`));
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

/**
 * Large reads at once when LARGE_READ_MAX_CONCURRENT is unset. On PostgreSQL
 * each is streamed through a cursor (JsResultService): it holds a pooled
 * connection until its reply is sent and about two batches of memory, so
 * what bounds them is the pool (half of it, the other half left to every
 * other call) and the cores: the database keeps one busy building each
 * one's JSON, and more at once than it has cores only adds to short reads'
 * tail latency (chaos: heavy+logins). The embedded database assembles each
 * whole, on its one session.
 */
export function largeReadConcurrency(database: DatabaseTarget, poolSize: number): number {
  if (database.kind === 'postgres') return Math.max(1, Math.min(Math.floor(poolSize / 2), availableParallelism()));
  return DEFAULT_RESPONSE_LIMITS.largeReadMaxConcurrent;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const vars = validatedEnvironment(withSecretFiles(env));
  const database = databaseTargetFrom(vars);
  const poolSize = vars.DB_POOL_SIZE ?? 10;
  return {
    port: vars.PORT ?? 3000,
    host: vars.HOST ?? '0.0.0.0',
    database,
    superTokenFile: vars.SUPER_TOKEN_FILE === undefined ? undefined : resolve(vars.SUPER_TOKEN_FILE),
    poolSize,
    statementTimeoutMs: vars.DB_STATEMENT_TIMEOUT_MS ?? 10_000,
    poolWaitMs: vars.DB_POOL_WAIT_MS ?? DEFAULT_DB_POOL_WAIT_MS,
    tokenCacheTtlMs: vars.TOKEN_CACHE_TTL_MS ?? 1_000,
    workerNamesCacheTtlMs: vars.WORKER_NAMES_CACHE_TTL_MS ?? 1_000,
    logLevel: vars.LOG_LEVEL ?? 'info',
    jsWorkerPoolSize: vars.JS_WORKER_POOL_SIZE ?? availableParallelism(),
    jsWorkerMaxQueue: vars.JS_WORKER_MAX_QUEUE ?? 1000,
    crontabMaxJobs: vars.CRONTAB_MAX_JOBS ?? DEFAULT_CRONTAB_MAX_JOBS,
    workerApi: {
      logLevel: vars.WORKER_LOG_LEVEL ?? DEFAULT_WORKER_API_SETTINGS.logLevel,
      fetchAllow: parseFetchAllow(vars.WORKER_FETCH_ALLOW) ?? [],
      inlineCallMaxDepth: vars.INLINE_CALL_MAX_DEPTH ?? DEFAULT_WORKER_API_SETTINGS.inlineCallMaxDepth,
      inlineCallMaxPerRun: vars.INLINE_CALL_MAX_PER_RUN ?? DEFAULT_WORKER_API_SETTINGS.inlineCallMaxPerRun,
      nodegetMaxReplyBytesPerRun: DEFAULT_WORKER_API_SETTINGS.nodegetMaxReplyBytesPerRun,
    },
    wsIdleTimeoutMs: vars.WS_IDLE_TIMEOUT_MS ?? DEFAULT_WS_IDLE_TIMEOUT_MS,
    auditKeepDays: vars.AUDIT_KEEP_DAYS ?? DEFAULT_AUDIT_KEEP_DAYS,
    jsResultMaxWaiters: vars.JS_RESULT_MAX_WAITERS ?? DEFAULT_JS_RESULT_MAX_WAITERS,
    retentionSweepIntervalMs: vars.RETENTION_SWEEP_INTERVAL_MS ?? DEFAULT_RETENTION_SWEEP_INTERVAL_MS,
    login: loginLimitsFrom(vars),
    scryptCost: vars.SCRYPT_COST ?? DEFAULT_SCRYPT_COST,
    responses: {
      maxResponseBytes: vars.MAX_RESPONSE_BYTES ?? DEFAULT_RESPONSE_LIMITS.maxResponseBytes,
      maxCallResponseBytes: vars.MAX_CALL_RESPONSE_BYTES ?? DEFAULT_RESPONSE_LIMITS.maxCallResponseBytes,
      largeReadMemoryBytes: vars.LARGE_READ_MEMORY_BYTES ?? DEFAULT_RESPONSE_LIMITS.largeReadMemoryBytes,
      largeReadMaxConcurrent: vars.LARGE_READ_MAX_CONCURRENT ?? largeReadConcurrency(database, poolSize),
      subscriptionMaxQueuedBytes: vars.SUBSCRIPTION_MAX_QUEUED_BYTES ?? DEFAULT_RESPONSE_LIMITS.subscriptionMaxQueuedBytes,
    },
    http: {
      headersTimeoutMs: vars.HTTP_HEADERS_TIMEOUT_MS ?? DEFAULT_HTTP_LIMITS.headersTimeoutMs,
      requestTimeoutMs: vars.HTTP_REQUEST_TIMEOUT_MS ?? DEFAULT_HTTP_LIMITS.requestTimeoutMs,
      maxConnections: vars.HTTP_MAX_CONNECTIONS ?? DEFAULT_HTTP_LIMITS.maxConnections,
      maxRequestsPerSocket: vars.HTTP_MAX_REQUESTS_PER_SOCKET ?? DEFAULT_HTTP_LIMITS.maxRequestsPerSocket,
      sendTimeoutMs: vars.HTTP_SEND_TIMEOUT_MS ?? DEFAULT_HTTP_LIMITS.sendTimeoutMs,
    },
    shutdown: {
      drainMs: vars.SHUTDOWN_DRAIN_MS ?? DEFAULT_SHUTDOWN_TIMINGS.drainMs,
      timeoutMs: vars.SHUTDOWN_TIMEOUT_MS ?? DEFAULT_SHUTDOWN_TIMINGS.timeoutMs,
    },
    corsOrigins: parseCorsOrigins(vars.CORS_ORIGINS) ?? [],
    logs: {
      accessLog: vars.ACCESS_LOG === undefined ? DEFAULT_LOG_SETTINGS.accessLog : vars.ACCESS_LOG === 'true',
      slowCallMs: vars.SLOW_CALL_MS ?? DEFAULT_LOG_SETTINGS.slowCallMs,
    },
    trustProxy: parseTrustProxy(vars.TRUST_PROXY),
    metrics: metricsSettingsFrom(vars),
    workerRoutes: workerRouteSettingsFrom(vars),
  };
}

function workerRouteSettingsFrom(vars: EnvironmentVariables): WorkerRouteSettings {
  const defaults = DEFAULT_WORKER_ROUTE_SETTINGS;
  const maxConcurrent = vars.WORKER_ROUTE_MAX_CONCURRENT ?? defaults.maxConcurrent;
  return {
    enabled: vars.WORKER_ROUTES !== 'off',
    maxBodyBytes: vars.WORKER_ROUTE_MAX_BODY_BYTES ?? defaults.maxBodyBytes,
    maxConcurrent,
    // A per-route limit above the total would never apply.
    maxConcurrentPerRoute: Math.min(vars.WORKER_ROUTE_MAX_CONCURRENT_PER_ROUTE ?? defaults.maxConcurrentPerRoute, maxConcurrent),
  };
}

function metricsSettingsFrom(vars: EnvironmentVariables): MetricsSettings {
  const port = vars.PORT ?? 3000;
  if (vars.METRICS_PORT !== undefined && vars.METRICS_PORT === port) {
    throw new ConfigError(`invalid configuration: METRICS_PORT must differ from PORT (both ${port})`);
  }
  return { token: vars.METRICS_TOKEN, port: vars.METRICS_PORT };
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
