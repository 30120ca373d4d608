import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';

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
  logLevel: string;
  /** Worker threads that run JS worker scripts (JS_WORKER_POOL_SIZE, default: CPU count). */
  jsWorkerPoolSize: number;
  /** Runs allowed to wait for a free thread before js-worker_run refuses (JS_WORKER_MAX_QUEUE, default 1000). */
  jsWorkerMaxQueue: number;
}

export class ConfigError extends Error {}

function integerFrom(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got '${raw}'`);
  }
  return value;
}

export function databaseTargetFrom(env: NodeJS.ProcessEnv): DatabaseTarget {
  const url = env.DATABASE_URL?.trim();
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url)) {
      throw new ConfigError('DATABASE_URL must start with postgres:// or postgresql://');
    }
    return { kind: 'postgres', url };
  }
  const dataDir = env.DATA_DIR?.trim() || './data';
  // `memory://` is PGlite's in-memory database: nothing on disk, gone when the process ends.
  return { kind: 'embedded', dataDir: dataDir === 'memory://' ? dataDir : resolve(dataDir) };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  return {
    port: integerFrom(env, 'PORT', 3000, 0, 65535),
    host: env.HOST?.trim() || '0.0.0.0',
    database: databaseTargetFrom(env),
    poolSize: integerFrom(env, 'DB_POOL_SIZE', 10, 1, 1000),
    statementTimeoutMs: integerFrom(env, 'DB_STATEMENT_TIMEOUT_MS', 10_000, 100, 3_600_000),
    tokenCacheTtlMs: integerFrom(env, 'TOKEN_CACHE_TTL_MS', 1_000, 0, 2_000),
    logLevel: env.LOG_LEVEL?.trim() || 'info',
    jsWorkerPoolSize: integerFrom(env, 'JS_WORKER_POOL_SIZE', availableParallelism(), 1, 256),
    jsWorkerMaxQueue: integerFrom(env, 'JS_WORKER_MAX_QUEUE', 1000, 0, 1_000_000),
  };
}

export const APP_CONFIG = Symbol('APP_CONFIG');
