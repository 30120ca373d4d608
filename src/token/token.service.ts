import { Inject, Injectable, Optional } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DomainError, DomainErrorCode, notFoundInDatabase } from '../common/domain.error';
import { isStorableText, unstorableCharacter } from '../common/storable-text';
import { type AuditAction, operatorAction, serverAction } from '../database/audited-change';
import { isUniqueViolation } from '../database/database.errors';
import { parseJson, stringifyJson } from '../json-rpc/json-rpc.codec';
import { checkTokenLimits } from './token-limit';
import { TokenChanges } from './token-changes';
import { credentialName, isTokenKey, parseCredentials } from '../common/credentials';
import type { Token } from './token.entity';
import { type KnownHash, type TokenAssignment, type TokenLookup, TokenRepository } from './token.repository';
import type { SuperTokenReplace } from './token.sql';
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

/**
 * Stored tokens: issuing, finding and administering them. Every change is one
 * statement that also writes its audit entry (TokenRepository); the
 * database trigger announces it to other instances, and this instance's caches
 * hear of it before the method returns.
 *
 * Who may call what is decided before (SuperTokenGuard); the service checks
 * what the change itself allows (the super token's own rules, the input).
 */
@Injectable()
export class TokenService {
  constructor(
    private readonly repository: TokenRepository,
    @Optional() private readonly changes: TokenChanges = new TokenChanges(),
    @Optional() @Inject(APP_CONFIG) config?: Pick<AppConfig, 'scryptCost'>,
  ) {
    this.scrypt = scryptParams(config?.scryptCost);
  }

  /** A service outside the Nest app (the CLI, the bench), on an open DataSource. */
  static on(dataSource: DataSource): TokenService {
    return new TokenService(TokenRepository.on(dataSource));
  }

  /** What new password hashes are made with (the CLI, which has no config here, uses OWASP's minimum). */
  readonly scrypt: ScryptParams;

  async create(input: NewToken, action: AuditAction = operatorAction('token_create')): Promise<IssuedToken> {
    checkTokenLimits(input.limits);
    checkWindow(input.timestampFrom, input.timestampTo);
    checkAccount(input.username, input.password);
    const key = randomAlphanumeric(KEY_LENGTH);
    const secret = randomAlphanumeric(SECRET_LENGTH);
    const passwordHash = input.password === undefined ? null : await hashPassword(input.password, this.scrypt);
    try {
      const fields = {
        key,
        secretHash: hashSecret(secret),
        timestampFrom: input.timestampFrom ?? null,
        timestampTo: input.timestampTo ?? null,
        limitsText: stringifyJson(input.limits),
        username: input.username ?? null,
        passwordHash,
      };
      const id = await this.repository.insert(fields, Date.now(), action);
      return { id, key, secret };
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
    return this.writeSuperToken(false, serverAction('super_token_create'));
  }

  /**
   * Sets the super token to this key and secret (SUPER_TOKEN_FILE, at start),
   * creating it if need be; true when it changed. An unchanged one is not
   * written, so restarts add nothing to the audit log.
   */
  async setSuperToken(key: string, secret: string): Promise<boolean> {
    try {
      return (await this.writeSuperToken('if-different', serverAction('super_token_set'), { key, secret })) !== undefined;
    } catch (err) {
      if (isUniqueViolation(err)) notAcceptable(`the super token's key ${key} is already another token's key`);
      throw err;
    }
  }

  private async writeSuperToken(
    replace: SuperTokenReplace,
    action: AuditAction,
    { key, secret } = { key: randomAlphanumeric(KEY_LENGTH), secret: randomAlphanumeric(SECRET_LENGTH) },
  ): Promise<IssuedToken | undefined> {
    const fields = { key, secretHash: hashSecret(secret), username: SUPER_TOKEN_USERNAME };
    const written = await this.repository.writeSuperToken(SUPER_TOKEN_ID, fields, Date.now(), replace, action);
    return written ? { id: SUPER_TOKEN_ID, key, secret } : undefined;
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
  list(): Promise<Token[]> {
    return this.repository.list();
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
    await this.changeToken(token, { limitsText: stringifyJson(limits) }, action);
    return { success: true, id: token.id, token_key: token.key };
  }

  /** Deletes the target; the results of its workers stay. */
  async delete(target: string, action: AuditAction): Promise<{ message: string; rows_affected: number; matched_by: TargetedToken['matchedBy'] }> {
    const { token, matchedBy, name } = await this.findTarget(target);
    if (isSuperToken(token)) permissionDenied('SuperToken cannot be deleted');
    const echo = this.changes.echoed(token.id, ANNOUNCEMENT_WAIT_MS);
    const deleted = await this.repository.delete(token.id, SUPER_TOKEN_ID, action);
    if (deleted === 0) this.vanished(name);
    this.changes.changedHere(token.id);
    await echo;
    return { message: `Token ${name} deleted successfully by SuperToken`, rows_affected: deleted, matched_by: matchedBy };
  }

  async changePassword(target: string, newPassword: string, action: AuditAction): Promise<{ success: true; message: string }> {
    const { token } = await this.findTarget(target);
    if (token.username === null) notAcceptable('the target token has no username; accounts are made with token_create');
    checkPassword(newPassword);
    await this.changeToken(token, { passwordHash: await hashPassword(newPassword, this.scrypt) }, action);
    return { success: true, message: 'Password changed successfully' };
  }

  /** A new secret for the target's key; the old one stops working at once. */
  async rollSecret(target: string, action: AuditAction): Promise<{ key: string; secret: string }> {
    const { token } = await this.findTarget(target);
    const secret = randomAlphanumeric(SECRET_LENGTH);
    await this.changeToken(token, { secretHash: hashSecret(secret) }, action);
    return { key: token.key, secret };
  }

  /**
   * Replaces a password hash (NodeGet's, or scrypt at other parameters than
   * the current ones) with `upgraded` once its password has been verified; a
   * no-op if the hash changed meanwhile. Not an administrative change, so not audited.
   */
  async upgradePasswordHash(token: Token, upgraded: string): Promise<void> {
    await this.repository.replacePasswordHash(token.id, token.passwordHash, upgraded);
    this.changes.changedHere(token.id);
  }

  /** Sets one column of the token and stamps updated_at. */
  private async changeToken(token: Token, assignment: TokenAssignment, action: AuditAction): Promise<void> {
    const echo = this.changes.echoed(token.id, ANNOUNCEMENT_WAIT_MS);
    const changed = await this.repository.update(token.id, assignment, Date.now(), action);
    if (!changed) this.vanished(token.key);
    this.changes.changedHere(token.id);
    await echo;
  }

  /** Deleted by someone else between the lookup and the change. */
  private vanished(name: string): never {
    throw tokenNotFound(name);
  }

  private findOne(column: TokenLookup, value: unknown, unless?: { column: KnownHash; knownHash: string | null }): Promise<Token | null> {
    return this.repository.findOne(column, value, unless);
  }
}
