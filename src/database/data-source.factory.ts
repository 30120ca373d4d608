import { DataSource, type DataSourceOptions, getMetadataArgsStorage } from 'typeorm';
import { type AppConfig, DEFAULT_DB_POOL_WAIT_MS } from '../config/app.config';
import { CUSTOM_PLANS_OPTION, namingClient, PreparedStatements } from './prepared-statements';
import { migrations } from './migrations';
import { openEmbeddedOrHeadStart } from './pglite.head-start';
import { pgliteDriver } from './pglite.pool';
import { postgresDriver } from './postgres.driver';

/** The entity classes a DataSource is told of. */
export type Entities = NonNullable<DataSourceOptions['entities']>;

/**
 * The entity classes this process has loaded (TypeORM records each `@Entity`
 * class as its module is imported): what a DataSource opened outside Nest
 * without a list of its own knows, so that a test or script that imports an
 * entity can build statements on it. The server's DataSource does not use
 * this: each module registers its own (TypeOrmModule.forFeature), and the
 * operator commands name theirs (src/app.entities.ts).
 */
export const loadedEntities = (): Entities => getMetadataArgsStorage().tables.map((table) => table.target);

export { IN_MEMORY } from './pglite.head-start';

export type DatabaseSettings = Pick<AppConfig, 'database' | 'poolSize' | 'statementTimeoutMs'> & Partial<Pick<AppConfig, 'poolWaitMs'>>;

const shared = {
  type: 'postgres',
  migrations,
  migrationsTableName: 'migrations',
  synchronize: false,
  migrationsRun: false,
  logging: false,
} as const;

/**
 * TypeORM options for the configured backend; one code path, two ways to connect.
 * Texts registered in `statements` run as named statements, on a server's
 * connections and on the embedded database's one session alike. The database
 * floor knows no feature: `entities` are the caller's (see loadedEntities).
 */
export function dataSourceOptions(
  settings: DatabaseSettings,
  statements = new PreparedStatements(),
  entities: Entities = loadedEntities(),
): DataSourceOptions {
  const target = settings.database;
  if (target.kind === 'embedded') {
    return { ...shared, entities, driver: pgliteDriver((events) => openEmbeddedOrHeadStart(target.dataDir, events), statements) } as DataSourceOptions;
  }
  const poolWaitMs = settings.poolWaitMs ?? DEFAULT_DB_POOL_WAIT_MS;
  return {
    ...shared,
    entities,
    driver: postgresDriver(namingClient(statements)),
    url: target.url,
    poolSize: settings.poolSize,
    // pg-pool bounds both the wait for a free connection and the making of a new one with this.
    connectTimeoutMS: poolWaitMs,
    applicationName: 'js-result-service',
    extra: {
      statement_timeout: settings.statementTimeoutMs,
      // The server cancels a statement at statement_timeout; this bounds the wait when the server cannot answer at all.
      query_timeout: settings.statementTimeoutMs + poolWaitMs,
      options: CUSTOM_PLANS_OPTION,
      keepAlive: true,
      // Idle connections are given back, so after a database restart new ones are made lazily.
      idleTimeoutMillis: 30_000,
    },
  };
}

/** Session-level advisory lock key: two servers starting together must not both migrate. */
const MIGRATION_LOCK = 727_201_145;

/**
 * Connects and applies pending migrations; the embedded database is locked to this process.
 * The names of the migrations applied now are added to `applied`.
 */
export async function initializeDataSource(options: DataSourceOptions, applied: string[] = []): Promise<DataSource> {
  const dataSource = new DataSource(options);
  await dataSource.initialize();
  try {
    applied.push(...(await migrate(dataSource, 'driver' in options && options.driver !== undefined)));
  } catch (err) {
    await dataSource.destroy();
    throw err;
  }
  return dataSource;
}

export const openDataSource = (settings: DatabaseSettings, statements?: PreparedStatements, entities?: Entities) =>
  initializeDataSource(dataSourceOptions(settings, statements, entities));

async function migrate(dataSource: DataSource, embedded: boolean): Promise<string[]> {
  if (embedded) {
    // One process holds the embedded database, and it has a single session to lend.
    return (await dataSource.runMigrations({ transaction: 'each' })).map((m) => m.name);
  }
  const lockHolder = dataSource.createQueryRunner();
  try {
    await lockHolder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    return (await dataSource.runMigrations({ transaction: 'each' })).map((m) => m.name);
  } finally {
    await lockHolder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await lockHolder.release();
  }
}
