import {
  type AppConfig,
  type DatabaseTarget,
  DEFAULT_AUDIT_KEEP_DAYS,
  DEFAULT_DB_POOL_WAIT_MS,
  DEFAULT_HTTP_LIMITS,
  DEFAULT_JS_RESULT_MAX_WAITERS,
  DEFAULT_LOG_SETTINGS,
  DEFAULT_LOGIN_LIMITS,
  DEFAULT_RESPONSE_LIMITS,
  DEFAULT_RETENTION_SWEEP_INTERVAL_MS,
  DEFAULT_WORKER_ROUTE_SETTINGS,
  DEFAULT_WS_IDLE_TIMEOUT_MS,
} from '../config/app.config';
import { IN_MEMORY } from '../database/data-source.factory';

/** PGlite's in-memory database: nothing on disk, gone when the application closes. */
export const IN_MEMORY_DATABASE: DatabaseTarget = { kind: 'embedded', dataDir: IN_MEMORY };

/**
 * A configuration for tests: the environment's defaults, except what keeps a
 * suite quick and quiet (a silent log, two worker threads, cheap password
 * hashes, no login throttle, no shutdown drain).
 */
export function testingConfig(database: DatabaseTarget = IN_MEMORY_DATABASE, overrides: Partial<AppConfig> = {}): AppConfig {
  return {
    port: 0,
    host: '127.0.0.1',
    database,
    poolSize: 5,
    statementTimeoutMs: 10_000,
    poolWaitMs: DEFAULT_DB_POOL_WAIT_MS,
    tokenCacheTtlMs: 1_000,
    // Suites reseed worker names between calls; the cache would hide a new worker for a second.
    workerNamesCacheTtlMs: 0,
    logLevel: 'silent',
    jsWorkerPoolSize: 2,
    jsWorkerMaxQueue: 1000,
    wsIdleTimeoutMs: DEFAULT_WS_IDLE_TIMEOUT_MS,
    auditKeepDays: DEFAULT_AUDIT_KEEP_DAYS,
    jsResultMaxWaiters: DEFAULT_JS_RESULT_MAX_WAITERS,
    retentionSweepIntervalMs: DEFAULT_RETENTION_SWEEP_INTERVAL_MS,
    // Suites fail logins from one address on purpose.
    login: { ...DEFAULT_LOGIN_LIMITS, failuresPerAddress: 1_000_000, failuresPerUsername: 1_000_000 },
    // Below OWASP's 17 (which only the environment enforces): suites create many accounts.
    scryptCost: 14,
    responses: DEFAULT_RESPONSE_LIMITS,
    http: DEFAULT_HTTP_LIMITS,
    // No drain; a short wait for what is in flight, so that close() is not held by a long run.
    shutdown: { drainMs: 0, timeoutMs: 2_000 },
    corsOrigins: [],
    logs: DEFAULT_LOG_SETTINGS,
    trustProxy: false,
    metrics: {},
    workerRoutes: DEFAULT_WORKER_ROUTE_SETTINGS,
    ...overrides,
  };
}
