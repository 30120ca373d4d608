import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { operatorAction } from '../database/audited-change';
import { isUniqueViolation } from '../database/database.errors';
import { TokenRepository } from './token.repository';
import { SUPER_TOKEN_ID } from './token.service';

/** A row of NodeGet's `token` table (its migration m20260131_112949_create_token). */
interface NodeGetToken {
  id: string | number;
  token_key: string;
  token_hash: string;
  time_stamp_from: string | number | null;
  time_stamp_to: string | number | null;
  /** As text: parsing it would round 64-bit integers, and it is stored as it came. */
  token_limit: string | null;
  username: string | null;
  password_hash: string | null;
}

export interface ImportReport {
  imported: number;
  skipped_existing_key: number;
  skipped_username_taken: number;
  skipped_super_token: number;
}

const orNull = (value: string | number | null) => (value === null ? null : Number(value));

/**
 * Copies NodeGet's tokens into this service's database. Secrets hash the same
 * way in both, so `key:secret` credentials keep working; NodeGet's password
 * hashes are kept and replaced with scrypt at each account's first login.
 * NodeGet's super token (id 1) is not copied: this service has its own.
 * Each copied token is one audited insert; an existing key or username is
 * skipped, never overwritten.
 */
export async function importNodeGetTokens(from: string, into: DataSource): Promise<ImportReport> {
  const source = new Client({ connectionString: from, connectionTimeoutMillis: 10_000 });
  await source.connect();
  let rows: NodeGetToken[];
  try {
    rows = (
      await source.query<NodeGetToken>(
        'SELECT id, token_key, token_hash, time_stamp_from, time_stamp_to, token_limit::text AS token_limit, username, password_hash FROM token ORDER BY id',
      )
    ).rows;
  } finally {
    await source.end();
  }
  const report: ImportReport = { imported: 0, skipped_existing_key: 0, skipped_username_taken: 0, skipped_super_token: 0 };
  const tokens = TokenRepository.on(into);
  for (const row of rows) report[await importOne(row, tokens)]++;
  return report;
}

async function importOne(row: NodeGetToken, into: TokenRepository): Promise<keyof ImportReport> {
  if (Number(row.id) === SUPER_TOKEN_ID) return 'skipped_super_token';
  const clash = await into.taken(row.token_key, row.username);
  if (clash.keyTaken) return 'skipped_existing_key';
  if (clash.usernameTaken) return 'skipped_username_taken';
  const fields = {
    key: row.token_key,
    secretHash: row.token_hash,
    timestampFrom: orNull(row.time_stamp_from),
    timestampTo: orNull(row.time_stamp_to),
    limitsText: row.token_limit ?? '[]',
    username: row.username,
    passwordHash: row.password_hash,
  };
  try {
    await into.insert(fields, Date.now(), operatorAction('import_nodeget', { token_key: row.token_key, username: row.username }));
    return 'imported';
  } catch (err) {
    // Taken by someone else since the check.
    if (isUniqueViolation(err)) return 'skipped_existing_key';
    throw err;
  }
}
