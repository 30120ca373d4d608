import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DomainError, DomainErrorCode } from '../common/domain.error';
import { isUniqueViolation, withDatabase } from '../database/database.errors';
import { checkTokenLimits } from './token-limit';
import { Token } from './token.entity';
import { hashPassword, hashSecret, KEY_LENGTH, randomAlphanumeric, SECRET_LENGTH } from './token.secrets';

export const SUPER_TOKEN_ID = 1;
export const SUPER_TOKEN_USERNAME = 'root';

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

export const formatToken = (issued: IssuedToken) => `${issued.key}:${issued.secret}`;

export function isSuperToken(token: Pick<Token, 'id' | 'username'>): boolean {
  return token.id === SUPER_TOKEN_ID && token.username === SUPER_TOKEN_USERNAME;
}

function notAcceptable(message: string): never {
  throw new DomainError(DomainErrorCode.NotAcceptable, message);
}

function checkWindow(from?: number, to?: number): void {
  for (const [name, value] of [['from', from], ['to', to]] as const) {
    if (value !== undefined && !Number.isSafeInteger(value)) notAcceptable(`${name}: expected an integer timestamp in ms, got ${value}`);
  }
  if (from !== undefined && to !== undefined && from > to) notAcceptable(`from (${from}) is after to (${to})`);
}

/** `:` wins over `|` when credentials are split, so these characters would make an account unusable. */
function checkAccount(username?: string, password?: string): void {
  if ((username === undefined) !== (password === undefined)) notAcceptable('username and password go together: give both or neither');
  if (username === undefined || password === undefined) return;
  if (username.length === 0 || username.length > 255) notAcceptable('username must be 1 to 255 characters');
  if (/[:|]/.test(username)) notAcceptable("username must not contain ':' or '|'");
  if (password.length === 0) notAcceptable('password must not be empty');
  if (password.includes(':')) notAcceptable("password must not contain ':'");
}

@Injectable()
export class TokenService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async create(input: NewToken): Promise<IssuedToken> {
    checkTokenLimits(input.limits);
    checkWindow(input.timestampFrom, input.timestampTo);
    checkAccount(input.username, input.password);
    const now = Date.now();
    const key = randomAlphanumeric(KEY_LENGTH);
    const secret = randomAlphanumeric(SECRET_LENGTH);
    const token = this.dataSource.getRepository(Token).create({
      key,
      secretHash: hashSecret(secret),
      timestampFrom: input.timestampFrom ?? null,
      timestampTo: input.timestampTo ?? null,
      limits: input.limits,
      username: input.username ?? null,
      passwordHash: input.password === undefined ? null : await hashPassword(input.password),
      createdAt: now,
      updatedAt: now,
    });
    try {
      const saved = await withDatabase(() => this.dataSource.getRepository(Token).save(token));
      return { id: saved.id, key, secret };
    } catch (err) {
      if (isUniqueViolation(err)) notAcceptable(`username '${input.username}' is already taken`);
      throw err;
    }
  }

  /** Creates the super token, or gives the existing one a new key and secret. */
  async rollSuperToken(): Promise<IssuedToken> {
    return (await this.writeSuperToken(true))!;
  }

  /** Creates the super token if there is none; returns it only when it was created now. */
  async ensureSuperToken(): Promise<IssuedToken | undefined> {
    return this.writeSuperToken(false);
  }

  private async writeSuperToken(replace: boolean): Promise<IssuedToken | undefined> {
    const key = randomAlphanumeric(KEY_LENGTH);
    const secret = randomAlphanumeric(SECRET_LENGTH);
    const now = Date.now();
    const onConflict = replace
      ? 'DO UPDATE SET token_key = EXCLUDED.token_key, token_hash = EXCLUDED.token_hash, updated_at = EXCLUDED.updated_at'
      : 'DO NOTHING';
    // One statement, so two servers starting at once cannot both create it.
    const rows: unknown[] = await withDatabase(() =>
      this.dataSource.query(
        `INSERT INTO token (id, token_key, token_hash, token_limit, username, created_at, updated_at)
         VALUES ($1, $2, $3, '[]'::jsonb, $4, $5, $5)
         ON CONFLICT (id) ${onConflict}
         RETURNING id`,
        [SUPER_TOKEN_ID, key, hashSecret(secret), SUPER_TOKEN_USERNAME, now],
      ),
    );
    return rows.length > 0 ? { id: SUPER_TOKEN_ID, key, secret } : undefined;
  }

  findByKey(key: string): Promise<Token | null> {
    return withDatabase(() => this.dataSource.getRepository(Token).findOneBy({ key }));
  }

  findByUsername(username: string): Promise<Token | null> {
    return withDatabase(() => this.dataSource.getRepository(Token).findOneBy({ username }));
  }
}
