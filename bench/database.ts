import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { openDataSource } from '../src/database/data-source.factory';
import { formatToken, TokenService } from '../src/token/token.service';
import { INSERT_COLUMNS, rowsSelectSql, SEED_END_MS, SEED_VERSION, WORKER_COUNT } from './dataset';
import type { BenchTokens } from './scenarios';
import { tokenLimitsFor } from './scenarios';

/** Rows inserted per statement while seeding: large enough to be set-based, small enough to show progress. */
const SEED_CHUNK = 500_000;

export type Log = (line: string) => void;

function databaseNameOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
}

function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Runs `work` on a connection of its own, closed afterwards whatever happens. */
export async function withClient<T>(url: string, work: (client: Client) => Promise<T>, applicationName = 'jsr-bench'): Promise<T> {
  const client = new Client({ connectionString: url, application_name: applicationName });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates the bench database if it is missing (through the server's `postgres` database). */
export async function ensureDatabase(url: string): Promise<void> {
  const name = databaseNameOf(url);
  await withClient(withDatabaseName(url, 'postgres'), async (admin) => {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
  });
}

export async function dropDatabase(url: string): Promise<void> {
  const name = databaseNameOf(url);
  await withClient(withDatabaseName(url, 'postgres'), (admin) =>
    admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`),
  );
}

/** Applies the service's own migrations, so the schema and indexes are exactly the service's. */
export async function applySchema(url: string): Promise<void> {
  const dataSource = await openDataSource({ database: { kind: 'postgres', url }, poolSize: 2, statementTimeoutMs: 600_000 });
  await dataSource.destroy();
}

async function seededRows(client: Client): Promise<number | undefined> {
  await client.query('CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text NOT NULL)');
  const { rows } = await client.query<{ key: string; value: string }>('SELECT key, value FROM bench_meta');
  const meta = Object.fromEntries(rows.map((r) => [r.key, r.value]));
  if (meta.version !== SEED_VERSION || meta.rows === undefined) return undefined;
  return Number(meta.rows);
}

/**
 * Fills js_result with exactly `rows` rows unless it already holds them. The
 * secondary indexes are dropped first and rebuilt from their own definitions
 * afterwards (one sort per index instead of millions of inserts into them).
 */
export async function seedIfNeeded(url: string, rows: number, log: Log): Promise<{ seeded: boolean; seconds: number }> {
  return withClient(url, async (client) => {
    if ((await seededRows(client)) === rows) {
      log(`database already holds ${rows.toLocaleString('en-US')} rows: not reseeding`);
      return { seeded: false, seconds: 0 };
    }
    const started = Date.now();
    await client.query("SET maintenance_work_mem = '1GB'");
    await client.query('DELETE FROM bench_meta');
    const indexes = await secondaryIndexes(client);
    for (const index of indexes) await client.query(`DROP INDEX ${quoteIdent(index.name)}`);
    await client.query('TRUNCATE js_result');
    for (let from = 0; from < rows; from += SEED_CHUNK) {
      const to = Math.min(rows, from + SEED_CHUNK) - 1;
      await client.query(
        `INSERT INTO js_result (${INSERT_COLUMNS}) ${rowsSelectSql(`generate_series(${from}::bigint, ${to}::bigint)`)}`,
      );
      log(`seeded ${(to + 1).toLocaleString('en-US')} / ${rows.toLocaleString('en-US')} rows (${elapsed(started)})`);
    }
    for (const index of indexes) {
      await client.query(index.definition);
      log(`built ${index.name} (${elapsed(started)})`);
    }
    // New ids (refills) continue after the seeded ones.
    await client.query(`SELECT setval(pg_get_serial_sequence('js_result', 'id'), $1)`, [rows]);
    await client.query('VACUUM (ANALYZE) js_result');
    log(`VACUUM ANALYZE done (${elapsed(started)})`);
    await client.query(`INSERT INTO bench_meta (key, value) VALUES ('version', $1), ('rows', $2)`, [SEED_VERSION, String(rows)]);
    return { seeded: true, seconds: (Date.now() - started) / 1000 };
  });
}

function elapsed(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

async function secondaryIndexes(client: Client): Promise<{ name: string; definition: string }[]> {
  const { rows } = await client.query<{ indexname: string; indexdef: string }>(
    `SELECT i.indexname, i.indexdef FROM pg_indexes i
     WHERE i.schemaname = current_schema() AND i.tablename = 'js_result'
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
     ORDER BY i.indexname`,
  );
  return rows.map((r) => ({ name: r.indexname, definition: r.indexdef }));
}

/** Average stored sizes, for the report (what "about 200 bytes of JSON" came to). */
export async function dataShape(url: string): Promise<Record<string, number>> {
  return withClient(url, async (client) => {
    const { rows } = await client.query(
      `SELECT avg(length(param::text))::int AS param_bytes, avg(length(result::text))::int AS result_bytes,
              pg_total_relation_size('js_result') AS total_bytes, pg_relation_size('js_result') AS heap_bytes
       FROM (SELECT param, result FROM js_result WHERE id <= 20000) s`,
    );
    return Object.fromEntries(Object.entries(rows[0]).map(([k, v]) => [k, Number(v)]));
  });
}

/**
 * A fresh super token and one token per scenario role. Old non-super tokens
 * are removed so repeated runs do not pile them up.
 */
export async function createTokens(url: string): Promise<BenchTokens> {
  const dataSource = await openDataSource({ database: { kind: 'postgres', url }, poolSize: 2, statementTimeoutMs: 60_000 });
  try {
    return await createTokensOn(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

/** createTokens on an open DataSource, whatever its backend (the embedded bench opens its own). */
export async function createTokensOn(dataSource: DataSource): Promise<BenchTokens> {
  await dataSource.query('DELETE FROM token WHERE id <> 1');
  const service = TokenService.on(dataSource);
  const superToken = formatToken(await service.rollSuperToken());
  const limits = tokenLimitsFor();
  return {
    super: superToken,
    named: formatToken(await service.create({ limits: limits.named })),
    wildcard: formatToken(await service.create({ limits: limits.wildcard })),
    deleter: formatToken(await service.create({ limits: limits.deleter })),
  };
}

/** The row indexes of one worker: every WORKER_COUNT-th index, from its own number. */
function workerSeries(workerIndex: number, rows: number): string {
  return `generate_series(${workerIndex}::bigint, ${rows - 1}::bigint, ${WORKER_COUNT}::bigint)`;
}

/** Puts one worker's rows back exactly as seeded (after S6 deleted some and the refill added others). */
export async function restoreWorker(url: string, workerIndex: number, workerName: string, rows: number): Promise<void> {
  await withClient(url, async (client) => {
    await client.query('BEGIN');
    await client.query('DELETE FROM js_result WHERE js_worker_name = $1', [workerName]);
    await client.query(`INSERT INTO js_result (${INSERT_COLUMNS}) ${rowsSelectSql(workerSeries(workerIndex, rows))}`);
    await client.query(`DELETE FROM bench_meta WHERE key = 'dirty_worker'`);
    await client.query('COMMIT');
    // The dead rows left by the deletes would otherwise slow the next scenarios' index scans.
    await client.query('VACUUM js_result');
  });
}

export interface Refiller {
  /** How many of the worker's rows were deleted since the refill started. */
  deletedSoFar(): Promise<number>;
  stop(): Promise<void>;
}

/** Rows added ahead of S6, newer than any seeded row, so every "last" deletes one of them. */
const DELETE_BUFFER_ROWS = 20_000;

/** Inserts `count` refill rows for the worker, each newer than the last (start times after the seed's end). */
async function insertRefillRows(client: Client, workerName: string, workerIndex: number, from: number, count: number): Promise<void> {
  await client.query(
    `INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time, finish_time, param, result)
     SELECT $1, $2, 'cron', $3::bigint + s * 1000, $3::bigint + s * 1000 + 40,
            jsonb_build_object('url', 'https://api.example.com/v2/refill/' || s, 'method', 'GET', 'attempt', 1),
            jsonb_build_object('status', 200, 'items', s % 500, 'etag', md5(s::text))
     FROM generate_series($4::bigint, $5::bigint) AS s`,
    [workerIndex + 1, workerName, SEED_END_MS, from, from + count - 1],
  );
}

/**
 * S6 deletes a worker's newest row over and over; this keeps rows there to be
 * deleted, as a cron worker keeps adding results. A buffer of rows newer than
 * any seeded one is added first (so no delete finds nothing, whatever the
 * table size), then topped up every `everyMs`. Only the refill rows are
 * counted (an index range above the seed's end), which stays cheap at 10M
 * rows. Used alike for the service, the bare server and pgbench;
 * restoreWorker undoes it all, and the worker is marked in bench_meta until
 * then, so a run that dies midway is repaired by the next one.
 */
export async function startRefiller(url: string, workerName: string, workerIndex: number, everyMs = 1000): Promise<Refiller> {
  const client = new Client({ connectionString: url, application_name: 'jsr-bench-refill' });
  await client.connect();
  await client.query(`INSERT INTO bench_meta (key, value) VALUES ('dirty_worker', $1) ON CONFLICT (key) DO UPDATE SET value = $1`, [
    `${workerIndex}:${workerName}`,
  ]);
  const refillRowsLeft = async () =>
    Number(
      (await client.query('SELECT count(*) AS n FROM js_result WHERE js_worker_name = $1 AND start_time > $2', [workerName, SEED_END_MS]))
        .rows[0].n,
    );
  await insertRefillRows(client, workerName, workerIndex, 1, DELETE_BUFFER_ROWS);
  let inserted = DELETE_BUFFER_ROWS;
  let stopped = false;
  let tick: Promise<void> = Promise.resolve();
  const refill = async () => {
    const missing = DELETE_BUFFER_ROWS - (await refillRowsLeft());
    if (missing <= 0) return;
    await insertRefillRows(client, workerName, workerIndex, inserted + 1, missing);
    inserted += missing;
  };
  const loop = (async () => {
    while (!stopped) {
      await new Promise((resolve) => setTimeout(resolve, everyMs));
      if (!stopped) await (tick = refill());
    }
  })();
  return {
    // Deletes take the newest rows, which are refill rows while the buffer lasts.
    deletedSoFar: async () => {
      await tick;
      return inserted - (await refillRowsLeft());
    },
    stop: async () => {
      stopped = true;
      await loop;
      await client.end();
    },
  };
}

/** Repairs the worker a run that died during S6 left behind (see startRefiller). */
export async function repairInterruptedDelete(url: string, rows: number, log: Log): Promise<void> {
  const dirty = await withClient(url, async (client) => {
    const { rows: meta } = await client.query<{ value: string }>(`SELECT value FROM bench_meta WHERE key = 'dirty_worker'`);
    return meta[0]?.value;
  });
  if (!dirty) return;
  const [index, ...name] = dirty.split(':');
  log(`restoring ${name.join(':')}, left changed by an interrupted run`);
  await restoreWorker(url, Number(index), name.join(':'), rows);
}

/** Server version and the settings that shape the numbers, for the report. */
export async function serverFacts(url: string): Promise<Record<string, string>> {
  return withClient(url, async (client) => {
    const facts: Record<string, string> = { version: (await client.query('SHOW server_version')).rows[0].server_version };
    const { rows } = await client.query<{ name: string; setting: string }>(
      `SELECT name, current_setting(name) AS setting FROM pg_settings
       WHERE name IN ('shared_buffers', 'work_mem', 'effective_cache_size', 'random_page_cost', 'max_connections', 'jit', 'synchronous_commit')
       ORDER BY name`,
    );
    for (const row of rows) facts[row.name] = row.setting;
    return facts;
  });
}
