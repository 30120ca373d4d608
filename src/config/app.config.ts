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
}

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
}

const NUMERIC = new Set([
  'PORT',
  'DB_POOL_SIZE',
  'DB_STATEMENT_TIMEOUT_MS',
  'TOKEN_CACHE_TTL_MS',
  'WORKER_NAMES_CACHE_TTL_MS',
  'JS_WORKER_POOL_SIZE',
  'JS_WORKER_MAX_QUEUE',
  'WS_IDLE_TIMEOUT_MS',
  'AUDIT_KEEP_DAYS',
  'JS_RESULT_MAX_WAITERS',
  'RETENTION_SWEEP_INTERVAL_MS',
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
    tokenCacheTtlMs: vars.TOKEN_CACHE_TTL_MS ?? 1_000,
    workerNamesCacheTtlMs: vars.WORKER_NAMES_CACHE_TTL_MS ?? 1_000,
    logLevel: vars.LOG_LEVEL ?? 'info',
    jsWorkerPoolSize: vars.JS_WORKER_POOL_SIZE ?? availableParallelism(),
    jsWorkerMaxQueue: vars.JS_WORKER_MAX_QUEUE ?? 1000,
    wsIdleTimeoutMs: vars.WS_IDLE_TIMEOUT_MS ?? DEFAULT_WS_IDLE_TIMEOUT_MS,
    auditKeepDays: vars.AUDIT_KEEP_DAYS ?? DEFAULT_AUDIT_KEEP_DAYS,
    jsResultMaxWaiters: vars.JS_RESULT_MAX_WAITERS ?? DEFAULT_JS_RESULT_MAX_WAITERS,
    retentionSweepIntervalMs: vars.RETENTION_SWEEP_INTERVAL_MS ?? DEFAULT_RETENTION_SWEEP_INTERVAL_MS,
  };
}

export const APP_CONFIG = Symbol('APP_CONFIG');
