import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { DatabaseTarget } from '../../src/config/app.config';
import { IN_MEMORY } from '../../src/database/data-source.factory';

/**
 * The suite runs on the embedded database by default and on a PostgreSQL
 * server when DATABASE_URL is set. On a server each test file gets a database
 * of its own, so files can run in parallel and leave nothing behind.
 */
export const serverUrl = process.env.DATABASE_URL?.trim() || undefined;
export const backendName = serverUrl ? 'postgres' : 'embedded';

export interface TestDatabase {
  target: DatabaseTarget;
  drop(): Promise<void>;
}

function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: withDatabaseName(url, 'postgres') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function createPostgresDatabase(url: string): Promise<TestDatabase> {
  const name = `jsr_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(url, `CREATE DATABASE ${name}`);
  return {
    target: { kind: 'postgres', url: withDatabaseName(url, name) },
    drop: () => adminQuery(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

export async function createTestDatabase(): Promise<TestDatabase> {
  if (serverUrl) return createPostgresDatabase(serverUrl);
  return { target: { kind: 'embedded', dataDir: IN_MEMORY }, drop: async () => undefined };
}

/** A PostgreSQL server for the tests that need one whatever the backend (outage, CLI sharing). */
export const LOCAL_POSTGRES_URL = serverUrl ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export async function postgresReachable(url = LOCAL_POSTGRES_URL): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}
