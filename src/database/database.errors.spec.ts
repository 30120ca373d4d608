import { Writable } from 'node:stream';
import pino from 'pino';
import { QueryFailedError } from 'typeorm';
import { DomainError, DomainErrorCode } from '../common/domain.error';
import { ConnectionFailure, EngineFailure, isDatabaseUnavailable, publicReason, redactStatementValues, withDatabase } from './database.errors';

/** An error as pg raises it for a server's ErrorResponse. */
const sqlError = (code: string, message = 'server says no') => Object.assign(new Error(message), { code });
/** What TypeORM throws when a statement fails. */
const onStatement = (driverError: Error) => new QueryFailedError('SELECT secret FROM token WHERE host = $1', ['db.internal'], driverError);

describe(isDatabaseUnavailable.name, () => {
  it.each(['55000', '57P03', '3D000', '28P01', '28000', '53300', '42601', 'XX000', 'ENOTFOUND'])(
    'is true for anything raised while connecting, whatever its code (%s)',
    (code) => {
      expect(isDatabaseUnavailable(new ConnectionFailure(sqlError(code)))).toBe(true);
    },
  );

  it('is true for a pool wait that timed out and for a connection never made', () => {
    expect(isDatabaseUnavailable(new ConnectionFailure(new Error('timeout exceeded when trying to connect')))).toBe(true);
    expect(isDatabaseUnavailable(new ConnectionFailure(new Error('Connection terminated due to connection timeout')))).toBe(true);
  });

  it.each(['57014', '57P01', '57P02', '08006', '53200', '58030', '40001', '40P01', '55P03'])(
    'is true for a statement that failed because of the database (%s)',
    (code) => {
      expect(isDatabaseUnavailable(onStatement(sqlError(code)))).toBe(true);
    },
  );

  it.each(['Connection terminated unexpectedly', 'Client has encountered a connection error and is not queryable', 'Query read timeout'])(
    'is true for a statement whose connection was lost (%s)',
    (message) => {
      expect(isDatabaseUnavailable(onStatement(new Error(message)))).toBe(true);
    },
  );

  it('is true for a failed embedded engine and for socket errors', () => {
    expect(isDatabaseUnavailable(new EngineFailure(new Error('PGlite is closed')))).toBe(true);
    expect(isDatabaseUnavailable(onStatement(sqlError('ECONNRESET')))).toBe(true);
  });

  it.each(['42601', '42P01', '22P02', '23505', '55000', '3D000', '28P01', 'XX000'])(
    'is false for a statement the database refused as wrong (%s): a bug',
    (code) => {
      expect(isDatabaseUnavailable(onStatement(sqlError(code)))).toBe(false);
    },
  );

  it('is false for errors that are not the database at all', () => {
    expect(isDatabaseUnavailable(new TypeError("Cannot read properties of undefined (reading 'rows')"))).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
  });
});

describe(publicReason.name, () => {
  it('says the query timed out for a cancelled or unanswered statement', () => {
    expect(publicReason(onStatement(sqlError('57014')))).toBe('the query timed out');
    expect(publicReason(onStatement(new Error('Query read timeout')))).toBe('the query timed out');
  });

  it('says the database is unavailable otherwise, naming nothing of the failure', () => {
    const sut = publicReason(new ConnectionFailure(sqlError('28P01', 'password authentication failed for user "jsr_app"')));
    expect(sut).toBe('the database is unavailable, try again later');
  });
});

describe(withDatabase.name, () => {
  it('turns an outage into DatabaseUnavailable and keeps the original as its cause', async () => {
    const cause = new ConnectionFailure(sqlError('3D000', 'database "jsr_secret" does not exist'));
    const sut = withDatabase(() => Promise.reject(cause));
    await expect(sut).rejects.toEqual(new DomainError(DomainErrorCode.DatabaseUnavailable, 'the database is unavailable, try again later'));
    await expect(sut).rejects.toMatchObject({ cause });
  });

  it('lets a bug through untouched', async () => {
    const bug = onStatement(sqlError('42601', 'syntax error at or near "SELEC"'));
    await expect(withDatabase(() => Promise.reject(bug))).rejects.toBe(bug);
  });
});

describe(redactStatementValues.name, () => {
  const SECRET_HASH = 'a'.repeat(64);
  const PASSWORD_HASH = 'scrypt$16384$8$1$c2FsdA==$aGFzaA==';

  /** Logs `fields` through pino as the app does (pino-http wraps its error serializer around pino's own) and returns the line. */
  function logged(fields: object): string {
    let line = '';
    const sink = new Writable({ write: (chunk, _encoding, done) => ((line += String(chunk)), done()) });
    const logger = pino({ serializers: { err: pino.stdSerializers.wrapErrorSerializer(redactStatementValues) } }, sink);
    logger.error(fields, 'failed');
    return line;
  }

  /** A failed INSERT as TypeORM raises it, its driver's error carrying the values too (as PGlite's does). */
  const failedInsert = () =>
    new QueryFailedError(
      'INSERT INTO token (token_key, token_hash, password_hash, created_at) VALUES ($1, $2, $3, $4)',
      ['n0kB8lSAykFd9Egu', SECRET_HASH, PASSWORD_HASH, 1700000000000],
      Object.assign(new Error('invalid byte sequence'), { code: '22021', params: ['n0kB8lSAykFd9Egu', SECRET_HASH, PASSWORD_HASH] }),
    );

  it('keeps no text value of a failed statement, at any depth, and keeps the numbers and the statement', () => {
    const line = logged({ method: 'token_create', err: failedInsert() });
    expect(line).not.toContain(SECRET_HASH);
    expect(line).not.toContain(PASSWORD_HASH);
    expect(line).not.toContain('n0kB8lSAykFd9Egu');
    const entry = JSON.parse(line);
    expect(entry.err.parameters).toEqual(['***', '***', '***', 1700000000000]);
    expect(entry.err.driverError.params).toEqual(['***', '***', '***']);
    expect(entry.err.query).toContain('INSERT INTO token');
    expect(entry.err.driverError.code).toBe('22021');
  });

  it('leaves the error itself untouched', () => {
    const error = failedInsert();
    logged({ err: error });
    expect(error.parameters).toContain(SECRET_HASH);
  });
});
