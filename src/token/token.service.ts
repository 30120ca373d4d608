import { Inject, Injectable, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { type AuditAction, audited, operatorAction } from '../audit/audit.statements';
import { DomainError, DomainErrorCode, notFoundInDatabase } from '../common/domain.error';
import { isStorableText, unstorableCharacter } from '../common/storable-text';
import { isUniqueViolation, withDatabase } from '../database/database.errors';
import type { Statement } from '../database/statement';
import { parseJson, stringifyJson } from '../json-rpc/json-rpc.codec';
import { checkTokenLimits } from './token-limit';
import { TokenChanges } from './token-changes';
import { credentialName, isTokenKey, parseCredentials } from './token.credentials';
import { Token } from './token.entity';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { hashPassword, hashSecret, KEY_LENGTH, randomAlphanumeric, type ScryptParams, scryptParams, SECRET_LENGTH } from './token.secrets';

export const SUPER_TOKEN_ID = 1;
export const SUPER_TOKEN_USERNAME = 'root';

/**
 * How long a change waits for the database to announce it back before
 * answering (see TokenChanges.echoed): a millisecond or two normally; the bound
 * only matters when notifications are slow or lost.
 */
const ANNOUNCEMENT_WAIT_MS = 200;

export interface NewToken {
  limits: unknown;
  timestampFrom?: number;
  timestampTo?: number;
  username?: string;
  password?: string;
}

export interface IssuedToken {
  id: number;
  key: string;
  secret: string;
}

/** A token as every method returns it: never a secret or a hash. */
export interface TokenObject {
  version: 1;
  token_key: string;
  timestamp_from: number | null;
  timestamp_to: number | null;
  token_limit: unknown;
  username: string | null;
}

export interface TargetedToken {
  token: Token;
  matchedBy: 'token_key' | 'username';
  /** The key or username that matched: what messages name it by. */
  name: string;
}

export const formatToken = (issued: IssuedToken) => `${issued.key}:${issued.secret}`;

export function isSuperToken(token: Pick<Token, 'id' | 'username'>): boolean {
  return token.id === SUPER_TOKEN_ID && token.username === SUPER_TOKEN_USERNAME;
}

/**
 * A token as it is shown, `token_limit` exactly as stored: 64-bit integers in
 * unknown kinds come back as BigInt, so write it with stringifyJson.
 */
export function toTokenObject(token: Token): TokenObject {
  return {
    version: 1,
    token_key: token.key,
    timestamp_from: token.timestampFrom,
    timestamp_to: token.timestampTo,
    token_limit: token.limitsText === undefined ? token.limits : parseJson(token.limitsText),
    username: token.username,
  };
}

/** The key or username a target names: all of it, or a credential's key or username part, split as at login. */
export function targetName(target: string): string {
  if (!target.includes(':') && !target.includes('|')) return target;
  return credentialName(parseCredentials(target));
}

/**
 * A target such as `[agent]:<uuid>` reads as key `[agent]`, but no key has that
 * form: it may be a username holding `:`, given whole. Never a target with a
 * `|` or a key-shaped key, whose second part may be a password or secret and
 * is not sent to the database.
 */
function wholeUsernameOf(target: string, name: string): string | undefined {
  return target !== name && !target.includes('|') && !isTokenKey(name) ? target : undefined;
}

/** NodeGet's words for a target that names no token (TOKENS.md), naming it by key or username only. */
export const tokenNotFound = (name: string) => notFoundInDatabase(`Token not found by key/username: ${name}`);

function notAcceptable(message: string): never {
  throw new DomainError(DomainErrorCode.NotAcceptable, message);
}

function permissionDenied(message: string): never {
  throw new DomainError(DomainErrorCode.PermissionDenied, message);
}

function checkWindow(from?: number, to?: number): void {
  for (const [name, value] of [['from', from], ['to', to]] as const) {
    if (value !== undefined && !Number.isSafeInteger(value)) notAcceptable(`${name}: expected an integer timestamp in ms, got ${value}`);
  }
  if (from !== undefined && to !== undefined && from > to) notAcceptable(`timestamp_from (${from}) is after timestamp_to (${to})`);
}

/**
 * `:` and `|` are allowed, as on NodeGet (its dashboard names agent tokens
 * `[agent]:<uuid>`); how such accounts log in is parseCredentials' business.
 */
function checkUsername(username: string): void {
  if (username.length === 0 || username.length > 255) notAcceptable('username must be 1 to 255 characters');
  checkStorable('username', username);
}

function checkPassword(password: string): void {
  if (password.length === 0) notAcceptable('password must not be empty');
  checkStorable('password', password);
}

/** JSON-RPC params never get here with such text (the params guard refuses it); the CLI's arguments can. */
function checkStorable(what: string, text: string): void {
  const character = unstorableCharacter(text);
  if (character !== undefined) notAcceptable(`${what} contains ${character}, which cannot be stored`);
}

function checkAccount(username?: string, password?: string): void {
  if ((username === undefined) !== (password === undefined)) notAcceptable('username and password go together: give both or neither');
  if (username !== undefined) checkUsername(username);
  if (password !== undefined) checkPassword(password);
}

type TokenRow = Record<string, unknown>;

/** Every column, and the limits as text too (see Token.limitsText). */
const TOKEN_COLUMNS = '*, token_limit::text AS token_limit_text';

function toToken(row: TokenRow): Token {
  const token = new Token();
  token.id = Number(row.id);
  token.key = row.token_key as string;
  token.secretHash = row.token_hash as string;
  token.timestampFrom = row.timestamp_from === null ? null : Number(row.timestamp_from);
  token.timestampTo = row.timestamp_to === null ? null : Number(row.timestamp_to);
  token.limits = row.token_limit;
  if (typeof row.token_limit_text === 'string') token.limitsText = row.token_limit_text;
  token.username = (row.username as string | null) ?? null;
  token.passwordHash = (row.password_hash as string | null) ?? null;
  token.createdAt = Number(row.created_at);
  token.updatedAt = Number(row.updated_at);
  return token;
}

/**
 * Stored tokens: issuing, finding and administering them. Every change is one
 * statement that also writes its audit entry (audit.statements.ts); the
 * database trigger announces it to other instances, and this instance's caches
 * hear of it before the method returns.
 *
 * Who may call what is decided before (SuperTokenGuard); the service checks
 * what the change itself allows (the super token's own rules, the input).
 */
@Injectable()
export class TokenService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Optional() private readonly changes: TokenChanges = new TokenChanges(),
    @Optional() @Inject(APP_CONFIG) config?: Pick<AppConfig, 'scryptCost'>,
  ) {
    this.scrypt = scryptParams(config?.scryptCost);
  }

  /** What new password hashes are made with (the CLI, which has no config here, uses OWASP's minimum). */
  readonly scrypt: ScryptParams;

  async create(input: NewToken, action: AuditAction = operatorAction('token_create')): Promise<IssuedToken> {
    checkTokenLimits(input.limits);
    checkWindow(input.timestampFrom, input.timestampTo);
    checkAccount(input.username, input.password);
    const now = Date.now();
    const key = randomAlphanumeric(KEY_LENGTH);
    const secret = randomAlphanumeric(SECRET_LENGTH);
    const passwordHash = input.password === undefined ? null : await hashPassword(input.password, this.scrypt);
    try {
      const [row] = await this.change(
        {
          text: `INSERT INTO token (token_key, token_hash, timestamp_from, timestamp_to, token_limit, username, password_hash, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $8) RETURNING id`,
          values: [key, hashSecret(secret), input.timestampFrom ?? null, input.timestampTo ?? null, stringifyJson(input.limits), input.username ?? null, passwordHash, now],
        },
        action,
      );
      return { id: Number(row.id), key, secret };
    } catch (err) {
      if (isUniqueViolation(err)) notAcceptable(`username '${input.username}' is already taken`);
      throw err;
    }
  }

  /** Creates the super token, or gives the existing one a new key and secret. */
  async rollSuperToken(action: AuditAction = operatorAction('super_token_roll')): Promise<IssuedToken> {
    return (await this.writeSuperToken(true, action))!;
  }

  /** Creates the super token if there is none (at the server's first start); returns it only when it was created now. */
  async ensureSuperToken(): Promise<IssuedToken | undefined> {
    return this.writeSuperToken(false, { origin: 'server', tokenKey: null, method: 'super_token_create', params: {} });
  }

  /**
   * Sets the super token to this key and secret (SUPER_TOKEN_FILE, at start),
   * creating it if need be; true when it changed. An unchanged one is not
   * written, so restarts add nothing to the audit log.
   */
  async setSuperToken(key: string, secret: string): Promise<boolean> {
    const action: AuditAction = { origin: 'server', tokenKey: null, method: 'super_token_set', params: {} };
    try {
      return (await this.writeSuperToken('if-different', action, { key, secret })) !== undefined;
    } catch (err) {
      if (isUniqueViolation(err)) notAcceptable(`the super token's key ${key} is already another token's key`);
      throw err;
    }
  }

  private async writeSuperToken(
    replace: boolean | 'if-different',
    action: AuditAction,
    { key, secret } = { key: randomAlphanumeric(KEY_LENGTH), secret: randomAlphanumeric(SECRET_LENGTH) },
  ): Promise<IssuedToken | undefined> {
    const now = Date.now();
    const update = 'DO UPDATE SET token_key = EXCLUDED.token_key, token_hash = EXCLUDED.token_hash, updated_at = EXCLUDED.updated_at';
    const onConflict =
      replace === 'if-different'
        ? `${update} WHERE token.token_key IS DISTINCT FROM EXCLUDED.token_key OR token.token_hash IS DISTINCT FROM EXCLUDED.token_hash`
        : replace
          ? update
          : 'DO NOTHING';
    // One statement, so two servers starting at once cannot both create it.
    const rows = await this.change(
      {
        text: `INSERT INTO token (id, token_key, token_hash, token_limit, username, created_at, updated_at)
               VALUES ($1, $2, $3, '[]'::jsonb, $4, $5, $5)
               ON CONFLICT (id) ${onConflict}
               RETURNING id`,
        values: [SUPER_TOKEN_ID, key, hashSecret(secret), SUPER_TOKEN_USERNAME, now],
      },
      action,
    );
    return rows.length > 0 ? { id: SUPER_TOKEN_ID, key, secret } : undefined;
  }

  findByKey(key: string): Promise<Token | null> {
    return this.findOne('token_key', key);
  }

  findByUsername(username: string): Promise<Token | null> {
    return this.findOne('username', username);
  }

  /**
   * The token with this key, or username, only if its secret or password hash
   * is no longer `knownHash`; null when it is unchanged or gone. The re-read
   * before refusing a cached token's wrong secret (TokenAuthenticator): it
   * usually finds no row, as the read of an unknown key does, so the two
   * cost the database the same.
   */
  findByKeyIfChanged(key: string, knownHash: string): Promise<Token | null> {
    return this.findOne('token_key', key, { column: 'token_hash', knownHash });
  }

  findByUsernameIfChanged(username: string, knownHash: string | null): Promise<Token | null> {
    return this.findOne('username', username, { column: 'password_hash', knownHash });
  }

  findById(id: number): Promise<Token | null> {
    return this.findOne('id', id);
  }

  /** Every token, by id. */
  async list(): Promise<Token[]> {
    const rows: TokenRow[] = await withDatabase(() => this.dataSource.query(`SELECT ${TOKEN_COLUMNS} FROM token ORDER BY id`));
    return rows.map(toToken);
  }

  /**
   * The token a target names: by key first, then by username. Empty or only
   * whitespace is 108, as NodeGet (which trims it) says. A username holding
   * `:` (`[agent]:<uuid>`) is found when given whole or with `|password`.
   */
  async findTarget(target: string): Promise<TargetedToken> {
    const name = target.trim().length === 0 ? '' : targetName(target);
    if (name.length === 0) notAcceptable('target_token cannot be empty');
    const whole = wholeUsernameOf(target, name);
    const found = (await this.findNamed(name, true)) ?? (whole === undefined ? null : await this.findNamed(whole, false));
    if (found === null) throw tokenNotFound(name);
    return found;
  }

  /** Text the database cannot hold names nothing, so it is not sent there. */
  private async findNamed(name: string, byKey: boolean): Promise<TargetedToken | null> {
    if (!isStorableText(name)) return null;
    const withKey = byKey ? await this.findByKey(name) : null;
    if (withKey) return { token: withKey, matchedBy: 'token_key', name };
    const withUsername = await this.findByUsername(name);
    return withUsername ? { token: withUsername, matchedBy: 'username', name } : null;
  }

  /** Replaces the target's limits whole. */
  async edit(target: string, limits: unknown, action: AuditAction): Promise<{ success: true; id: number; token_key: string }> {
    const { token } = await this.findTarget(target);
    if (isSuperToken(token)) permissionDenied('SuperToken cannot be edited: it needs no limits');
    checkTokenLimits(limits);
    await this.changeToken(token, 'token_limit = $2::jsonb', stringifyJson(limits), action);
    return { success: true, id: token.id, token_key: token.key };
  }

  /** Deletes the target; the results of its workers stay. */
  async delete(target: string, action: AuditAction): Promise<{ message: string; rows_affected: number; matched_by: TargetedToken['matchedBy'] }> {
    const { token, matchedBy, name } = await this.findTarget(target);
    if (isSuperToken(token)) permissionDenied('SuperToken cannot be deleted');
    const echo = this.changes.echoed(token.id, ANNOUNCEMENT_WAIT_MS);
    const rows = await this.change({ text: `DELETE FROM token WHERE id = $1 AND id <> ${SUPER_TOKEN_ID} RETURNING id`, values: [token.id] }, action);
    if (rows.length === 0) this.vanished(name);
    this.changes.changedHere(token.id);
    await echo;
    return { message: `Token ${name} deleted successfully by SuperToken`, rows_affected: rows.length, matched_by: matchedBy };
  }

  async changePassword(target: string, newPassword: string, action: AuditAction): Promise<{ success: true; message: string }> {
    const { token } = await this.findTarget(target);
    if (token.username === null) notAcceptable('the target token has no username; accounts are made with token_create');
    checkPassword(newPassword);
    await this.changeToken(token, 'password_hash = $2', await hashPassword(newPassword, this.scrypt), action);
    return { success: true, message: 'Password changed successfully' };
  }

  /** A new secret for the target's key; the old one stops working at once. */
  async rollSecret(target: string, action: AuditAction): Promise<{ key: string; secret: string }> {
    const { token } = await this.findTarget(target);
    const secret = randomAlphanumeric(SECRET_LENGTH);
    await this.changeToken(token, 'token_hash = $2', hashSecret(secret), action);
    return { key: token.key, secret };
  }

  /**
   * Replaces a password hash (NodeGet's, or scrypt at other parameters than
   * the current ones) with `upgraded` once its password has been verified; a
   * no-op if the hash changed meanwhile. Not an administrative change, so not audited.
   */
  async upgradePasswordHash(token: Token, upgraded: string): Promise<void> {
    await withDatabase(() =>
      this.dataSource.query('UPDATE token SET password_hash = $3 WHERE id = $1 AND password_hash = $2', [token.id, token.passwordHash, upgraded]),
    );
    this.changes.changedHere(token.id);
  }

  /** Sets one column (`assignment` uses $2) of the token and stamps updated_at. */
  private async changeToken(token: Token, assignment: string, value: unknown, action: AuditAction): Promise<void> {
    const echo = this.changes.echoed(token.id, ANNOUNCEMENT_WAIT_MS);
    const rows = await this.change(
      { text: `UPDATE token SET ${assignment}, updated_at = $3 WHERE id = $1 RETURNING id`, values: [token.id, value, Date.now()] },
      action,
    );
    if (rows.length === 0) this.vanished(token.key);
    this.changes.changedHere(token.id);
    await echo;
  }

  /** Deleted by someone else between the lookup and the change. */
  private vanished(name: string): never {
    throw tokenNotFound(name);
  }

  private change(statement: Statement, action: AuditAction): Promise<TokenRow[]> {
    const { text, values } = audited(statement, action);
    return withDatabase(() => this.dataSource.query<TokenRow[]>(text, values));
  }

  private async findOne(
    column: 'token_key' | 'username' | 'id',
    value: unknown,
    unless?: { column: 'token_hash' | 'password_hash'; knownHash: string | null },
  ): Promise<Token | null> {
    const changed = unless === undefined ? '' : ` AND ${unless.column} IS DISTINCT FROM $2`;
    const values = unless === undefined ? [value] : [value, unless.knownHash];
    const rows: TokenRow[] = await withDatabase(() => this.dataSource.query(`SELECT ${TOKEN_COLUMNS} FROM token WHERE ${column} = $1${changed}`, values));
    return rows.length > 0 ? toToken(rows[0]) : null;
  }
}
