import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app.factory';
import {
  type AppConfig,
  type DatabaseTarget,
  DEFAULT_DB_POOL_WAIT_MS,
  DEFAULT_AUDIT_KEEP_DAYS,
  DEFAULT_JS_RESULT_MAX_WAITERS,
  DEFAULT_HTTP_LIMITS,
  DEFAULT_LOG_SETTINGS,
  DEFAULT_LOGIN_LIMITS,
  DEFAULT_RESPONSE_LIMITS,
  DEFAULT_RETENTION_SWEEP_INTERVAL_MS,
  DEFAULT_WORKER_ROUTE_SETTINGS,
  DEFAULT_WS_IDLE_TIMEOUT_MS,
} from '../../src/config/app.config';
import { JsResult } from '../../src/js-result/js-result.entity';
import { formatToken, type NewToken, TokenService } from '../../src/token/token.service';
import { createTestDatabase, type TestDatabase } from './test-database';

export interface TestApp {
  app: NestFastifyApplication;
  dataSource: DataSource;
  tokens: TokenService;
  /** `key:secret` of the super token. */
  superToken: string;
  /** Creates a token with these limits and returns `key:secret`. */
  token(limits: unknown, extra?: Omit<NewToken, 'limits'>): Promise<string>;
  close(): Promise<void>;
}

export function testConfig(database: DatabaseTarget, overrides: Partial<AppConfig> = {}): AppConfig {
  return {
    port: 0,
    host: '127.0.0.1',
    database,
    poolSize: 5,
    statementTimeoutMs: 10_000,
    poolWaitMs: DEFAULT_DB_POOL_WAIT_MS,
    tokenCacheTtlMs: 1_000,
    // Suites reseed worker names between calls; worker-names-cache.e2e-spec.ts covers the cache.
    workerNamesCacheTtlMs: 0,
    logLevel: 'silent',
    jsWorkerPoolSize: 2,
    jsWorkerMaxQueue: 1000,
    wsIdleTimeoutMs: DEFAULT_WS_IDLE_TIMEOUT_MS,
    auditKeepDays: DEFAULT_AUDIT_KEEP_DAYS,
    jsResultMaxWaiters: DEFAULT_JS_RESULT_MAX_WAITERS,
    // Suites call RetentionSweeper.sweepOnce themselves; retention.e2e-spec.ts shortens it where it matters.
    retentionSweepIntervalMs: DEFAULT_RETENTION_SWEEP_INTERVAL_MS,
    // Suites fail logins from one address on purpose; login-budget.e2e-spec.ts tightens the throttle where it matters.
    login: { ...DEFAULT_LOGIN_LIMITS, failuresPerAddress: 1_000_000, failuresPerUsername: 1_000_000 },
    // Below OWASP's 17 (which only the environment enforces): suites create many accounts; 2^17 takes ~0.3-1 s a hash here.
    scryptCost: 14,
    responses: DEFAULT_RESPONSE_LIMITS,
    http: DEFAULT_HTTP_LIMITS,
    // No drain in tests; a short wait for what is in flight, so a suite's close() is not held by a long run.
    // server-shutdown.e2e-spec.ts sets both where they matter.
    shutdown: { drainMs: 0, timeoutMs: 2_000 },
    corsOrigins: [],
    logs: DEFAULT_LOG_SETTINGS,
    trustProxy: false,
    metrics: {},
    workerRoutes: DEFAULT_WORKER_ROUTE_SETTINGS,
    ...overrides,
  };
}

/** The real application, over HTTP, on a fresh database of the backend under test. */
export async function startTestApp(overrides: Partial<AppConfig> = {}, database?: TestDatabase): Promise<TestApp> {
  const db = database ?? (await createTestDatabase());
  const app = await createApp(testConfig(db.target, overrides));
  const tokens = app.get(TokenService);
  const superToken = formatToken(await tokens.rollSuperToken());
  return {
    app,
    dataSource: app.get(DataSource),
    tokens,
    superToken,
    token: async (limits, extra = {}) => formatToken(await tokens.create({ limits, ...extra })),
    close: async () => {
      await app.close();
      if (!database) await db.drop();
    },
  };
}

export interface RpcReply {
  status: number;
  body: any;
  text: string;
}

/** Posts one JSON-RPC request (or any raw body) and returns the parsed reply. */
export async function rpc(app: NestFastifyApplication, payload: unknown, path = '/'): Promise<RpcReply> {
  const res = await request(app.getHttpServer())
    .post(path)
    .set('Content-Type', 'application/json')
    .send(typeof payload === 'string' ? payload : JSON.stringify(payload));
  return { status: res.status, text: res.text, body: res.text ? JSON.parse(res.text) : undefined };
}

/** A single call's envelope, with id 1 unless told otherwise. */
export const call = (method: string, params: unknown, id: unknown = 1) => ({ jsonrpc: '2.0', method, params, id });

export const queryParams = (token: string, condition: unknown[]) => ({ token, query: { condition } });

export type SeedRow = Partial<Omit<JsResult, 'id'>> & { jsWorkerName: string };

/** Inserts rows straight into js_result, as the workers that produce them would. */
export async function seed(dataSource: DataSource, rows: SeedRow[]): Promise<JsResult[]> {
  const repo = dataSource.getRepository(JsResult);
  const entities = rows.map((row) =>
    repo.create({
      jsWorkerId: 1,
      runType: 'call',
      startTime: null,
      finishTime: null,
      param: null,
      result: null,
      errorMessage: null,
      ...row,
    }),
  );
  const saved: JsResult[] = [];
  // Chunked: one INSERT per row would be slow, one for thousands too large a statement.
  for (let i = 0; i < entities.length; i += 500) saved.push(...(await repo.save(entities.slice(i, i + 500))));
  return saved;
}

export async function countRows(dataSource: DataSource): Promise<number> {
  const [{ count }] = await dataSource.query('SELECT count(*)::int AS count FROM js_result');
  return Number(count);
}

/** Every row, ids only, for "nothing changed" checks. */
export async function allIds(dataSource: DataSource): Promise<number[]> {
  const rows: { id: string | number }[] = await dataSource.query('SELECT id FROM js_result ORDER BY id');
  return rows.map((r) => Number(r.id));
}
