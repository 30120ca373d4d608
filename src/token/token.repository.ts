import { Injectable } from '@nestjs/common';
import type { DataSource, InsertQueryBuilder, ObjectLiteral, SelectQueryBuilder, UpdateQueryBuilder } from 'typeorm';
import { type AuditAction, audited } from '../database/audited-change';
import { Database } from '../database/database';
import { PreparedStatements } from '../database/prepared-statements';
import { type Statement, statementOf } from '../database/statement';
import { Token } from './token.entity';
import { KEY_OR_USERNAME_TAKEN, LIMITS_AS_TEXT, LIMITS_FROM_TEXT, type SuperTokenReplace, superTokenUpsert } from './token.sql';

/** The column a token is looked up by. */
export type TokenLookup = 'token_key' | 'username' | 'id';

/** The hash a re-read compares with: a row whose hash is still the known one is not answered. */
export type KnownHash = 'token_hash' | 'password_hash';

/** A token's stored fields, as a change writes them. */
export interface TokenFields {
  key: string;
  secretHash: string;
  timestampFrom: number | null;
  timestampTo: number | null;
  /** The limits' JSON text, stored as it is (64-bit integers stay exact). */
  limitsText: string;
  username: string | null;
  passwordHash: string | null;
}

/** One column a change of a token sets, beside its updated_at. */
export type TokenAssignment = { limitsText: string } | { passwordHash: string } | { secretHash: string };

type TokenRow = Record<string, unknown>;

const PROPERTY: Record<TokenLookup | KnownHash, keyof Token> = {
  token_key: 'key',
  username: 'username',
  id: 'id',
  token_hash: 'secretHash',
  password_hash: 'passwordHash',
};

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
 * The `token` table: the only code that reads or writes it. Every
 * administrative change is one statement that also writes its audit entry
 * (database/audited-change.ts); the database trigger announces it.
 *
 * The lookups the token guard runs at every uncached call are built once per
 * shape and sent with their values, so resolving a token costs one statement
 * and no building.
 */
@Injectable()
export class TokenRepository {
  /** The lookup texts, built at their first use: by column, then by the hash a re-read compares. */
  private readonly lookups = new Map<TokenLookup, Map<KnownHash | undefined, string>>();

  constructor(private readonly db: Database) {}

  /** A repository outside the Nest app (the CLI, the bench): its statements run unnamed on `dataSource`. */
  static on(dataSource: DataSource): TokenRepository {
    return new TokenRepository(new Database(dataSource, new PreparedStatements()));
  }

  /**
   * The token whose `column` is `value`; with `unless`, only if that hash is
   * no longer `knownHash` (the re-read before refusing a cached token's wrong
   * secret or password).
   */
  async findOne(column: TokenLookup, value: unknown, unless?: { column: KnownHash; knownHash: string | null }): Promise<Token | null> {
    const text = this.lookupText(column, unless?.column);
    const values = unless === undefined ? [value] : [value, unless.knownHash];
    const [row] = await this.db.rows<TokenRow>({ text, values });
    return row === undefined ? null : toToken(row);
  }

  /** Every token, by id. */
  async list(): Promise<Token[]> {
    const rows = await this.db.rows<TokenRow>(statementOf(this.everyColumn().orderBy('token.id')));
    return rows.map(toToken);
  }

  /** Inserts a token with its audit entry; its id. */
  async insert(fields: TokenFields, createdAt: number, action: AuditAction): Promise<number> {
    const { limitsText, ...columns } = fields;
    const qb = this.inserting({ ...columns, limits: () => LIMITS_FROM_TEXT, createdAt, updatedAt: createdAt }).setParameter('limits', limitsText);
    const [row] = await this.change(statementOf(qb), action);
    return Number(row.id);
  }

  /**
   * Writes the super token (id `id`) in one statement, so two servers starting
   * at once cannot both create it; whether it was written.
   */
  async writeSuperToken(
    id: number,
    fields: Pick<TokenFields, 'key' | 'secretHash' | 'username'>,
    now: number,
    replace: SuperTokenReplace,
    action: AuditAction,
  ): Promise<boolean> {
    const values = [id, fields.key, fields.secretHash, fields.username, now];
    return (await this.change({ text: superTokenUpsert(replace), values }, action)).length > 0;
  }

  /** Sets one column of the token and stamps updated_at, with its audit entry; whether the token was still there. */
  async update(id: number, assignment: TokenAssignment, now: number, action: AuditAction): Promise<boolean> {
    const qb = this.updating(id, assignment, now).returning('id');
    return (await this.change(statementOf(qb), action)).length > 0;
  }

  /** Deletes the token (never the super token, `superTokenId`) with its audit entry; how many went. */
  async delete(id: number, superTokenId: number, action: AuditAction): Promise<number> {
    const qb = this.db.dataSource
      .createQueryBuilder()
      .delete()
      .from(Token)
      .where('id = :id', { id })
      .andWhere('id <> :superTokenId', { superTokenId })
      .returning('id');
    return (await this.change(statementOf(qb), action)).length;
  }

  /** Replaces a password hash if it is still `knownHash`; not an administrative change, so not audited. */
  async replacePasswordHash(id: number, knownHash: string | null, upgraded: string): Promise<void> {
    const qb = this.db.dataSource
      .createQueryBuilder()
      .update(Token)
      .set({ passwordHash: upgraded })
      .where('id = :id', { id })
      .andWhere('password_hash = :knownHash', { knownHash });
    await this.db.rows(statementOf(qb));
  }

  /** Whether a token already has this key, and whether one has this username, in one statement. */
  async taken(key: string, username: string | null): Promise<{ keyTaken: boolean; usernameTaken: boolean }> {
    const [row] = await this.db.rows<{ key_taken: boolean; username_taken: boolean }>({ text: KEY_OR_USERNAME_TAKEN, values: [key, username] });
    return { keyTaken: row.key_taken, usernameTaken: row.username_taken };
  }

  private lookupText(column: TokenLookup, unless: KnownHash | undefined): string {
    let shapes = this.lookups.get(column);
    if (shapes === undefined) this.lookups.set(column, (shapes = new Map()));
    let text = shapes.get(unless);
    if (text === undefined) {
      const qb = this.everyColumn().where(`token.${PROPERTY[column]} = :value`, { value: null });
      if (unless !== undefined) qb.andWhere(`token.${PROPERTY[unless]} IS DISTINCT FROM :knownHash`, { knownHash: null });
      [text] = qb.getQueryAndParameters();
      shapes.set(unless, text);
    }
    return text;
  }

  /** Every column, and the limits as text too (see Token.limitsText). */
  private everyColumn(): SelectQueryBuilder<Token> {
    return this.db.select(Token, 'token').select('token.*').addSelect(LIMITS_AS_TEXT, 'token_limit_text');
  }

  private inserting(values: ObjectLiteral): InsertQueryBuilder<Token> {
    return this.db.dataSource.createQueryBuilder().insert().into(Token).values(values).updateEntity(false).returning('id');
  }

  private updating(id: number, assignment: TokenAssignment, now: number): UpdateQueryBuilder<Token> {
    const qb = this.db.dataSource.createQueryBuilder().update(Token);
    if ('limitsText' in assignment) {
      qb.set({ limits: () => LIMITS_FROM_TEXT, updatedAt: now }).setParameter('limits', assignment.limitsText);
    } else {
      qb.set({ ...assignment, updatedAt: now });
    }
    return qb.where('id = :id', { id });
  }

  private change(statement: Statement, action: AuditAction): Promise<TokenRow[]> {
    return this.db.rows<TokenRow>(audited(statement, action));
  }
}
