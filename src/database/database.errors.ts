import { QueryFailedError } from 'typeorm';
import { DomainError, DomainErrorCode } from '../common/domain.error';

/**
 * A failure to get or establish a connection: the pool's wait ran out, the
 * server refused or dropped the handshake, rejected the credentials, has no
 * such database, is not accepting connections or has too many. Whatever the
 * code, the statement never ran, so the caller did nothing wrong: the database
 * is unavailable. The pools wrap what they raise while connecting in this, so
 * classifying does not depend on knowing every code a handshake can fail with.
 */
export class ConnectionFailure extends Error {
  constructor(cause: unknown) {
    super('could not obtain a database connection', { cause });
    this.name = 'ConnectionFailure';
  }
}

/**
 * The database engine itself broke while running a statement (the embedded
 * one was closed or aborted): nothing the statement said caused it.
 */
export class EngineFailure extends Error {
  constructor(cause: unknown) {
    super('the database engine failed', { cause });
    this.name = 'EngineFailure';
  }
}

/** Node socket errors that mean the server is out of reach, not that the query is wrong. */
const UNREACHABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * SQLSTATEs a running statement can get that describe the database's condition
 * rather than the statement: connection exceptions (08), insufficient resources
 * (53), operator intervention (57: shutdown, terminated backend, statement
 * timeout), system errors (58: I/O), lock not available (55P03), and transient
 * transaction conflicts (40001 serialization, 40P01 deadlock). Any other code
 * on a statement means the statement is wrong: a bug, not an outage.
 */
function isUnavailableSqlState(code: string): boolean {
  return /^(08|53|57|58)/.test(code) || ['40001', '40P01', '55P03'].includes(code);
}

/** What `pg` says when a statement's answer does not come within its `query_timeout`. */
const QUERY_READ_TIMEOUT = /^query read timeout$/i;

/** Whether `err` is pg's read timeout: the statement may still run on a connection that went silent. */
export function isQueryReadTimeout(err: unknown): boolean {
  return err instanceof Error && QUERY_READ_TIMEOUT.test(err.message);
}

/** What `pg` says, without a code, when a connection is lost under a statement. */
const CONNECTION_LOST_MESSAGES = [/^connection terminated/i, /is not queryable/i, QUERY_READ_TIMEOUT, /^cannot use a pool after calling end/i];

/** The error, then what it wraps (TypeORM's driverError, an Error's cause), outermost first. */
function causesOf(error: unknown): object[] {
  const chain: object[] = [];
  let current: unknown = error;
  while (current && typeof current === 'object' && chain.length < 6 && !chain.includes(current)) {
    chain.push(current);
    current = (current as { driverError?: unknown }).driverError ?? (current as { cause?: unknown }).cause;
  }
  return chain;
}

function meansUnavailable(error: object): boolean {
  if (error instanceof ConnectionFailure || error instanceof EngineFailure) return true;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (UNREACHABLE_SOCKET_CODES.has(code) || isUnavailableSqlState(code))) return true;
  return typeof message === 'string' && CONNECTION_LOST_MESSAGES.some((pattern) => pattern.test(message));
}

/**
 * Whether a failure is the database's condition (answered 103) rather than a
 * bug. Decided first by where it happened: anything raised while connecting is.
 * On a running statement, only the codes and losses above are.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  return causesOf(error).some(meansUnavailable);
}

function timedOut(error: object): boolean {
  return (error as { code?: unknown }).code === '57014' || isQueryReadTimeout(error);
}

/** Why the database failed, in words safe to show a caller: no SQL, no host, no user, no secret. */
export function publicReason(error: unknown): string {
  if (causesOf(error).some(timedOut)) return 'the query timed out';
  return 'the database is unavailable, try again later';
}

/**
 * Runs a database operation and turns "the database is not there" into the
 * domain's DatabaseUnavailable; anything else (a bug) propagates untouched.
 */
export async function withDatabase<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (isDatabaseUnavailable(error)) {
      throw new DomainError(DomainErrorCode.DatabaseUnavailable, publicReason(error), { cause: error });
    }
    throw error;
  }
}

/** A UNIQUE constraint refused the row: the caller's input clashes with what is stored. */
export function isUniqueViolation(error: unknown): boolean {
  return error instanceof QueryFailedError && (error.driverError as { code?: string } | undefined)?.code === '23505';
}

/** What a logged statement value becomes: the marker the audit log uses for secrets. */
export const REDACTED_VALUE = '***';

/** Where failed statements carry their values: TypeORM's QueryFailedError, and PGlite's own error (its driverError). */
const STATEMENT_VALUE_KEYS = new Set(['parameters', 'params']);

function redactedValues(values: unknown[]): unknown[] {
  // Text and JSON may be a secret's or a password's hash, a worker's env, a script: none is logged.
  // Numbers, booleans and nulls (ids, times) are kept, for they help to read the log and hide nothing.
  return values.map((value) => (value === null || ['number', 'bigint', 'boolean', 'undefined'].includes(typeof value) ? value : REDACTED_VALUE));
}

/**
 * A logged error (as pino's error serializer made it) with the values of the
 * failed statement it carries replaced, at any depth: a failed `token_create`
 * would otherwise log the new secret's hash and the password's hash. The
 * statement's text is kept: it is parameterised, so it holds no values.
 * Returns a copy; the error itself is left as it was.
 */
export function redactStatementValues<T>(logged: T, depth = 0): T {
  if (logged === null || typeof logged !== 'object' || depth > 8) return logged;
  if (ArrayBuffer.isView(logged) || logged instanceof Date || logged instanceof Map || logged instanceof Set) return logged;
  if (Array.isArray(logged)) return logged.map((item) => redactStatementValues(item, depth + 1)) as T;
  const copy: Record<string, unknown> = Object.create(Object.getPrototypeOf(logged));
  for (const [key, value] of Object.entries(logged)) {
    copy[key] = STATEMENT_VALUE_KEYS.has(key) && Array.isArray(value) ? redactedValues(value) : redactStatementValues(value, depth + 1);
  }
  return copy as T;
}
