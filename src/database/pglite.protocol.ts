/**
 * The messages between the embedded database's thread (pglite.worker.ts) and
 * the pool on the main thread (pglite.pool.ts). Values cross by structured
 * clone: rows as plain objects, json/jsonb columns of a JSON_AS_TEXT statement
 * as their text.
 */

/** What the thread is started with (its workerData). */
export interface EngineSettings {
  /** A directory, or `memory://`. */
  dataDir: string;
  /** Server settings, `name=value`, given at start (EMBEDDED_POSTGRES_SETTINGS); postgresql.conf is left as it is. */
  settings: readonly string[];
  /**
   * Where a gzipped tar of a freshly initialised cluster is kept: a new
   * database is unpacked from it instead of running initdb, and the first
   * initdb writes it (pglite.template.ts). Undefined: no template.
   */
  templateFile?: string;
}

export const JSON_OID = 114;
export const JSONB_OID = 3802;

const asText = (value: string): string => value;

/** PGlite's per-query `parsers` of a JSON_AS_TEXT statement (json-as-text.ts): json and jsonb as their text. */
export const PGLITE_JSON_AS_TEXT_PARSERS = { [JSON_OID]: asText, [JSONB_OID]: asText };

/** workerData key that tells pglite.worker it really is the database thread (and not merely imported). */
export const PGLITE_WORKER_FLAG = 'jsrPgliteEngine';

/**
 * The embedded server's settings. PGlite's defaults are a server's (128 MB of
 * shared buffers, written out at start, so resident at once); one process with
 * one session over a small database does not use them, and the operating
 * system caches the data files anyway.
 */
export const EMBEDDED_POSTGRES_SETTINGS: readonly string[] = [
  'shared_buffers=16MB',
  'wal_buffers=1MB',
  'temp_buffers=1MB',
  'max_connections=5',
  // Unlike a server's connections (prepared-statements.ts): planning a short read in the engine costs more than
  // running it (bench/README.md), so a named statement may keep a generic plan where PostgreSQL's own test allows
  // it (after a few custom plans, a generic plan estimated no costlier than their average); otherwise it stays custom.
  'plan_cache_mode=auto',
];

/** The slice of a `pg` query result that TypeORM's postgres driver reads. */
export interface PgLikeResult {
  rows: unknown[];
  rowCount: number;
  command?: string;
}

/** A statement error's fields (PGlite's DatabaseError: code, detail, constraint…), as plain data. */
export interface SerializedError {
  name: string;
  message: string;
  fields: Record<string, string | number>;
}

export type ToEngine =
  | {
      op: 'query';
      id: number;
      /** The pool's lease the statement belongs to: a lease that opened a transaction has the session to itself. */
      lease: number;
      /** Its name when the service registered the text (PreparedStatements): run as a named statement. */
      name?: string;
      text: string;
      params?: unknown[];
      jsonAsText: boolean;
    }
  | { op: 'release'; lease: number }
  | { op: 'listen'; id: number; channel: string }
  | { op: 'unlisten'; id: number; channel: string }
  | { op: 'close'; id: number };

export type FromEngine =
  | { kind: 'ready' }
  | { kind: 'open-failed'; error: SerializedError }
  | { kind: 'done'; id: number; result?: PgLikeResult }
  | { kind: 'failed'; id: number; error: SerializedError; engineBroken: boolean }
  | { kind: 'notification'; channel: string; payload: string };

/** Keys of PGlite's errors that carry the statement's values: never copied out of the thread. */
const VALUE_KEYS = new Set(['params', 'queryOptions']);

export function serializeError(err: unknown): SerializedError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), fields: {} };
  const fields: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(err)) {
    if (VALUE_KEYS.has(key)) continue;
    if (typeof value === 'string' || typeof value === 'number') fields[key] = value;
  }
  return { name: err.name, message: err.message, fields };
}

/** The error as the code on the main thread reads it: same message, name and fields (code, constraint…). */
export function deserializeError(serialized: SerializedError): Error {
  const err = Object.assign(new Error(serialized.message), serialized.fields);
  err.name = serialized.name;
  return err;
}
