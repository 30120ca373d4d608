import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { audited, operatorAction } from '../audit/audit.statements';
import { isUniqueViolation, withDatabase } from '../database/database.errors';
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
  for (const row of rows) report[await importOne(row, into)]++;
  return report;
}

async function importOne(row: NodeGetToken, into: DataSource): Promise<keyof ImportReport> {
  if (Number(row.id) === SUPER_TOKEN_ID) return 'skipped_super_token';
  const [clash] = await withDatabase(() =>
    into.query<{ key_taken: boolean; username_taken: boolean }[]>(
      `SELECT EXISTS (SELECT 1 FROM token WHERE token_key = $1) AS key_taken,
              EXISTS (SELECT 1 FROM token WHERE username = $2) AS username_taken`,
      [row.token_key, row.username],
    ),
  );
  if (clash.key_taken) return 'skipped_existing_key';
  if (clash.username_taken) return 'skipped_username_taken';
  const now = Date.now();
  const statement = audited(
    {
      text: `INSERT INTO token (token_key, token_hash, timestamp_from, timestamp_to, token_limit, username, password_hash, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $8) RETURNING id`,
      values: [row.token_key, row.token_hash, orNull(row.time_stamp_from), orNull(row.time_stamp_to), row.token_limit ?? '[]', row.username, row.password_hash, now],
    },
    operatorAction('import_nodeget', { token_key: row.token_key, username: row.username }),
  );
  try {
    await withDatabase(() => into.query(statement.text, statement.values));
    return 'imported';
  } catch (err) {
    // Taken by someone else since the check.
    if (isUniqueViolation(err)) return 'skipped_existing_key';
    throw err;
  }
}
