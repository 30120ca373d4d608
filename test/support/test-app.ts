import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import type { AppConfig, DatabaseTarget } from '../../src/config/app.config';
import type { JsResult } from '../../src/js-result/js-result.entity';
import { createTestingApp, seedResults, type SeedResult, testingConfig } from '../../src/testing';
import type { NewToken, TokenService } from '../../src/token/token.service';
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

/** The service's test configuration (js-result-service/testing's testingConfig) on `database`. */
export function testConfig(database: DatabaseTarget, overrides: Partial<AppConfig> = {}): AppConfig {
  return testingConfig(database, overrides);
}

/** The real application, over HTTP, on a fresh database of the backend under test. */
export async function startTestApp(overrides: Partial<AppConfig> = {}, database?: TestDatabase): Promise<TestApp> {
  const db = database ?? (await createTestDatabase());
  const target = db.target;
  // js-result-service/testing's app, on this backend's database (a fresh PostgreSQL database per file, or in memory).
  const testing = await createTestingApp({ databaseUrl: target.kind === 'postgres' ? target.url : undefined, config: { database: target, ...overrides } });
  return {
    app: testing.app,
    dataSource: testing.dataSource,
    tokens: testing.tokens,
    superToken: testing.superToken,
    token: testing.createToken,
    close: async () => {
      await testing.close();
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

export type SeedRow = SeedResult;

/** Inserts rows straight into js_result, as the workers that produce them would (js-result-service/testing's seedResults). */
export function seed(dataSource: DataSource, rows: SeedRow[]): Promise<JsResult[]> {
  return seedResults(dataSource, rows);
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
