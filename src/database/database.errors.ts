import { QueryFailedError } from 'typeorm';
import { DomainError, DomainErrorCode } from '../common/domain.error';

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
 * SQLSTATE classes and codes that describe the database's condition rather than
 * the statement: connection exceptions (08), insufficient resources (53),
 * operator intervention (57: shutdown, statement timeout), and transient
 * transaction conflicts (40001 serialization, 40P01 deadlock).
 */
function isUnavailableSqlState(code: string): boolean {
  return /^(08|53|57)/.test(code) || code === '40001' || code === '40P01';
}

const UNREACHABLE_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /not queryable/i,
  /connection (is )?closed/i,
  /cannot use a pool after calling end/i,
  /the embedded database is closed/i,
  /PGlite is closed/i,
];

function causesOf(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  while (current && typeof current === 'object' && chain.length < 5) {
    chain.push(current);
    const next = (current as { driverError?: unknown; cause?: unknown }).driverError ?? (current as { cause?: unknown }).cause;
    if (next === current) break;
    current = next;
  }
  return chain;
}

export function isDatabaseUnavailable(error: unknown): boolean {
  return causesOf(error).some((e) => {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (UNREACHABLE_SOCKET_CODES.has(code) || isUnavailableSqlState(code))) return true;
    return typeof message === 'string' && UNREACHABLE_MESSAGES.some((pattern) => pattern.test(message));
  });
}

/** Why the database failed, in words safe to show a caller: no SQL, no host, no secret. */
function publicReason(error: unknown): string {
  const chain = causesOf(error);
  if (chain.some((e) => (e as { code?: string }).code === '57014')) return 'the query timed out';
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
