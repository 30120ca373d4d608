import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresDatabase, serverUrl } from './test-database';

export interface ProcessBackend {
  /** DATABASE_URL (a database of its own on the run's server) or DATA_DIR (a new directory). */
  env: Record<string, string>;
  drop(): Promise<void>;
}

/** The database of the backend under test, as the environment of a server or CLI process. */
export async function processBackend(): Promise<ProcessBackend> {
  if (serverUrl) {
    const database = await createPostgresDatabase(serverUrl);
    return { env: { DATABASE_URL: (database.target as { url: string }).url }, drop: () => database.drop() };
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'jsr-process-'));
  return { env: { DATA_DIR: dataDir }, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
}
