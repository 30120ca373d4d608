import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as lockfile from 'proper-lockfile';

export class DataDirLockedError extends Error {
  constructor(readonly dataDir: string) {
    super(
      `The embedded database in ${dataDir} is in use by another process (is the server running?). ` +
        `Stop it first, or point DATABASE_URL at a PostgreSQL server to share the data between processes.`,
    );
    this.name = 'DataDirLockedError';
  }
}

/**
 * The embedded database must be opened by one process at a time: two PGlite
 * instances writing the same directory would corrupt it. The lock is refreshed
 * while held and considered abandoned when a crashed holder stops refreshing it.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  mkdirSync(dataDir, { recursive: true });
  try {
    return await lockfile.lock(dataDir, {
      lockfilePath: join(dataDir, '.lock'),
      stale: 10_000,
      update: 2_000,
      realpath: false,
      onCompromised: (err) => {
        // Another process took the directory over; writing on would corrupt it.
        process.stderr.write(`embedded database lock lost: ${err.message}\n`);
        process.exit(70);
      },
    });
  } catch (err) {
    if ((err as { code?: string }).code === 'ELOCKED') throw new DataDirLockedError(dataDir);
    throw err;
  }
}
