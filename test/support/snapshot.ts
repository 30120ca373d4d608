import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { parse } from 'lossless-json';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { createPostgresDatabase, serverUrl, type TestDatabase } from './test-database';

/**
 * A database as an older release left it: the plain-SQL dump in
 * test/fixtures (made by that release's own code, see the header of the .sql
 * file) loaded into a fresh database of the backend under test.
 */

const FIXTURES = join(__dirname, '..', 'fixtures');

/** What schema-v0.1.0.json holds: the snapshot's credentials and the old server's answers. */
export interface SnapshotFixture {
  commit: string;
  /** `key:secret` of the snapshot's super token (test data only). */
  superToken: string;
  /** `key:secret` of a token limited to demo_* workers. */
  limitedToken: string;
  /** `username|password` of an account token with global read. */
  accountLogin: string;
  /** The js_result ids of the two runs the old server made. */
  runIds: unknown[];
  /** Calls made to the old server on the snapshot, with its answers (numbers kept exact). */
  calls: RecordedCall[];
}

export interface RecordedCall {
  token: 'super' | 'limited' | 'account';
  method: string;
  params: Record<string, unknown>;
  result?: unknown;
  error?: { code: unknown; message: string };
}

export async function snapshotSql(name: string): Promise<string> {
  return readFile(join(FIXTURES, `${name}.sql`), 'utf8');
}

/** The fixture JSON, parsed losslessly: its 64-bit integers stay exact (as LosslessNumber). */
export async function snapshotFixture(name: string): Promise<SnapshotFixture> {
  return parse(await readFile(join(FIXTURES, `${name}.json`), 'utf8')) as unknown as SnapshotFixture;
}

/**
 * A fresh database of the backend under test with the snapshot loaded: on a
 * PostgreSQL server a new database; embedded, a PGlite data directory in a
 * temporary folder (the app then opens it as DATA_DIR, as an operator's would be).
 */
export async function createSnapshotDatabase(name: string): Promise<TestDatabase> {
  const sql = await snapshotSql(name);
  if (serverUrl) {
    const db = await createPostgresDatabase(serverUrl);
    const client = new Client({ connectionString: (db.target as { url: string }).url });
    try {
      await client.connect();
      // Plain SQL without psql meta-commands, so one simple-protocol query runs it all.
      await client.query(sql);
    } catch (err) {
      await db.drop();
      throw err;
    } finally {
      await client.end();
    }
    return db;
  }
  const folder = await mkdtemp(join(tmpdir(), 'jsr-snapshot-'));
  const dataDir = join(folder, 'data');
  const drop = () => rm(folder, { recursive: true, force: true });
  try {
    const pglite = new PGlite(dataDir);
    try {
      await pglite.exec(sql);
    } finally {
      await pglite.close();
    }
  } catch (err) {
    await drop();
    throw err;
  }
  return { target: { kind: 'embedded', dataDir }, drop };
}

/**
 * Everything in the public schema that migrations make, as the catalogs
 * describe it, so two databases can be compared: columns (types, defaults,
 * collations, identities), constraints, indexes, triggers, functions and
 * sequences (their definitions, not their current values).
 */
export async function describeSchema(ds: DataSource): Promise<Record<string, unknown[]>> {
  const q = (sql: string) => ds.query(sql) as Promise<Record<string, unknown>[]>;
  // Integers come back as strings from pg and maybe as numbers from PGlite: compare their text.
  const text = (rows: Record<string, unknown>[]) =>
    rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === null ? null : String(v)])));
  return {
    columns: text(
      await q(`
        SELECT table_name, column_name, ordinal_position, data_type, character_maximum_length, is_nullable,
               column_default, collation_name, is_identity, identity_generation, identity_start,
               identity_increment, identity_minimum, identity_maximum, identity_cycle
        FROM information_schema.columns WHERE table_schema = 'public'
        ORDER BY table_name, ordinal_position`),
    ),
    constraints: text(
      await q(`
        SELECT conrelid::regclass::text AS table_name, conname, pg_get_constraintdef(oid) AS definition
        FROM pg_constraint WHERE connamespace = 'public'::regnamespace
        ORDER BY 1, 2`),
    ),
    indexes: text(await q(`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2`)),
    triggers: text(
      await q(`
        SELECT tgrelid::regclass::text AS table_name, tgname, pg_get_triggerdef(oid) AS definition
        FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2`),
    ),
    functions: text(
      await q(`
        SELECT proname, pg_get_functiondef(oid) AS definition
        FROM pg_proc WHERE pronamespace = 'public'::regnamespace ORDER BY 1`),
    ),
    sequences: text(
      await q(`
        SELECT sequencename, data_type, start_value, min_value, max_value, increment_by, cycle, cache_size
        FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1`),
    ),
    sequenceOwners: text(
      await q(`
        SELECT s.relname AS sequence_name, t.relname AS table_name, a.attname AS column_name, d.deptype
        FROM pg_depend d
        JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
        JOIN pg_class t ON t.oid = d.refobjid
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
        WHERE s.relnamespace = 'public'::regnamespace
        ORDER BY 1`),
    ),
  };
}

/** The public tables, by name. */
export async function publicTables(ds: DataSource): Promise<string[]> {
  const rows: { table_name: string }[] = await ds.query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
  );
  return rows.map((r) => r.table_name);
}
