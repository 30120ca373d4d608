import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { createApp } from '../app.factory';
import type { AppConfig, DatabaseTarget } from '../config/app.config';
import { JSR_DATA_SOURCE } from '../database/data-source.name';
import type { JsResult } from '../js-result/js-result.entity';
import { formatToken, type NewToken, TokenService } from '../token/token.service';
import { IN_MEMORY_DATABASE, testingConfig } from './testing.config';

export interface TestingAppOptions {
  /** A PostgreSQL database to use (migrated at start); without it, an in-memory embedded database. */
  databaseUrl?: string;
  /** Any setting of the service's configuration (see AppConfig); tests' defaults otherwise (testingConfig). */
  config?: Partial<AppConfig>;
}

export interface TestingApp {
  /** The whole service, initialised and not listening: hand `app.getHttpServer()` to supertest. */
  app: NestFastifyApplication;
  /** The service's DataSource. */
  dataSource: DataSource;
  tokens: TokenService;
  /** `key:secret` of the super token, rolled at start. */
  superToken: string;
  /** Creates a token with these limits (NodeGet's `limits` array) and returns `key:secret`. */
  createToken(limits: unknown, extra?: Omit<NewToken, 'limits'>): Promise<string>;
  /** Inserts result rows as workers would produce them; see seedResults. */
  seedResults(rows: SeedResult[]): Promise<JsResult[]>;
  /** Closes the application (and with it the database connections; an in-memory database is gone). */
  close(): Promise<void>;
}

/** One js_result row to insert: the worker's name, and whatever else matters to the test. */
export type SeedResult = Partial<Omit<JsResult, 'id'>> & { jsWorkerName: string };

/**
 * The service as the standalone server runs it (Fastify, JSON-RPC at `/` and
 * `/nodeget/rpc`, WebSocket on the same paths), on an in-memory embedded
 * database unless `databaseUrl` is given, with a super token rolled.
 */
export async function createTestingApp(options: TestingAppOptions = {}): Promise<TestingApp> {
  const database: DatabaseTarget = options.databaseUrl === undefined ? IN_MEMORY_DATABASE : { kind: 'postgres', url: options.databaseUrl };
  const app = await createApp(testingConfig(database, options.config));
  try {
    const tokens = app.get(TokenService);
    const superToken = formatToken(await tokens.rollSuperToken());
    const dataSource = dataSourceOf(app);
    return {
      app,
      dataSource,
      tokens,
      superToken,
      createToken: (limits, extra) => createToken(app, limits, extra),
      seedResults: (rows) => seedResults(dataSource, rows),
      close: () => app.close(),
    };
  } catch (err) {
    await app.close();
    throw err;
  }
}

/** The service's DataSource in an application (or testing module) that imports it. */
export function dataSourceOf(app: Pick<INestApplicationContext, 'get'>): DataSource {
  return app.get<DataSource>(getDataSourceToken(JSR_DATA_SOURCE), { strict: false });
}

/** Creates a token with these limits (NodeGet's `limits` array) and returns `key:secret`, ready for `params.token`. */
export async function createToken(app: Pick<INestApplicationContext, 'get'>, limits: unknown, extra: Omit<NewToken, 'limits'> = {}): Promise<string> {
  const tokens = app.get(TokenService, { strict: false });
  return formatToken(await tokens.create({ limits, ...extra } as NewToken));
}

const SEED_COLUMNS = ['js_worker_id', 'js_worker_name', 'run_type', 'start_time', 'finish_time', 'param', 'result', 'error_message'];
/** Rows per INSERT: one per row would be slow, one for thousands too large a statement. */
const SEED_CHUNK = 500;

const jsonOrNull = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

/** A row with every column filled in: the worker's defaults, then what the test gave. */
function completeRow(row: SeedResult): Omit<JsResult, 'id'> {
  const defaults = { jsWorkerId: 1, runType: 'call', startTime: null, finishTime: null, param: null, result: null, errorMessage: null };
  return { paramTextBytes: null, resultTextBytes: null, errorMessageTextBytes: null, ...defaults, ...row };
}

/**
 * Inserts rows straight into js_result (its columns are the contract other
 * writers use too), as the workers that produce them would; returns them with their ids.
 */
export async function seedResults(dataSource: DataSource, rows: SeedResult[]): Promise<JsResult[]> {
  const complete = rows.map(completeRow);
  const saved: JsResult[] = [];
  for (let at = 0; at < complete.length; at += SEED_CHUNK) {
    const chunk = complete.slice(at, at + SEED_CHUNK);
    const values: unknown[] = [];
    const tuples = chunk.map((row) => {
      const first = values.length;
      values.push(row.jsWorkerId, row.jsWorkerName, row.runType, row.startTime, row.finishTime, jsonOrNull(row.param), jsonOrNull(row.result), row.errorMessage);
      const slot = (i: number) => `$${first + i + 1}`;
      return `(${slot(0)}, ${slot(1)}, ${slot(2)}, ${slot(3)}, ${slot(4)}, ${slot(5)}::jsonb, ${slot(6)}::jsonb, ${slot(7)})`;
    });
    const inserted: { id: string | number }[] = await dataSource.query(
      `INSERT INTO js_result (${SEED_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')} RETURNING id`,
      values,
    );
    chunk.forEach((row, i) => saved.push({ ...row, id: Number(inserted[i].id) }));
  }
  return saved;
}
