import { PGlite } from '@electric-sql/pglite';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { DatabaseTarget } from '../config/app.config';
import { DataDirLockedError, lockDataDir } from './data-dir.lock';

/** A backup or restore the operator must change something for; the message says what. */
export class BackupError extends Error {}

const LOCK_ENTRY = '.lock';
const GZIP_MAGIC = [0x1f, 0x8b];

/** The embedded data directory, or a refusal naming what to do instead. */
function embeddedDir(target: DatabaseTarget, verb: 'backup' | 'restore'): string {
  if (target.kind === 'postgres') {
    throw new BackupError(`${verb} is for the embedded database; on a PostgreSQL server (DATABASE_URL) use pg_dump / pg_restore`);
  }
  if (target.dataDir === 'memory://') throw new BackupError(`DATA_DIR is memory://: there is nothing on disk to ${verb}`);
  return target.dataDir;
}

/** The directory's lock, or a refusal that says a server holds it. */
async function lockFor(dataDir: string, verb: 'backup' | 'restore'): Promise<() => Promise<void>> {
  try {
    return await lockDataDir(dataDir);
  } catch (err) {
    if (!(err instanceof DataDirLockedError)) throw err;
    throw new BackupError(`${dataDir} is in use by another process (is the server running?): stop it before a ${verb}`);
  }
}

const entriesOf = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((name) => name !== LOCK_ENTRY) : []);

/**
 * Writes the whole embedded database (records, tokens, and the server
 * secrets: the page-cursor signing key, the server uuid) to `to` as a
 * gzipped tar (PGlite's dumpDataDir). The data directory's lock is taken
 * first, so this is refused while a server holds it. The file is written
 * beside its place and renamed, mode 0600: it holds every secret hash.
 */
export async function backupEmbedded(target: DatabaseTarget, to: string): Promise<{ file: string; bytes: number }> {
  const dataDir = embeddedDir(target, 'backup');
  if (!existsSync(join(dataDir, 'PG_VERSION'))) throw new BackupError(`${dataDir} holds no embedded database (DATA_DIR)`);
  const unlock = await lockFor(dataDir, 'backup');
  try {
    const db = await PGlite.create(dataDir);
    let archive: Buffer;
    try {
      // Everything committed is in the data files, so the restored copy starts without replaying WAL.
      await db.exec('CHECKPOINT');
      archive = Buffer.from(await (await db.dumpDataDir('gzip')).arrayBuffer());
    } finally {
      await db.close();
    }
    const partial = `${to}.${process.pid}.partial`;
    try {
      writeFileSync(partial, archive, { mode: 0o600 });
      renameSync(partial, to);
    } catch (err) {
      rmSync(partial, { force: true });
      throw new BackupError(`cannot write ${to} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    return { file: to, bytes: archive.length };
  } finally {
    await unlock();
  }
}

/**
 * Makes DATA_DIR the database a backup holds. Only into a new or empty
 * directory: a restore never mixes with, or replaces, a database. Pending
 * migrations are left to the next start (or `migrate`).
 */
export async function restoreEmbedded(target: DatabaseTarget, from: string): Promise<{ dataDir: string; tokens: number; results: number }> {
  const dataDir = embeddedDir(target, 'restore');
  let archive: Buffer;
  try {
    archive = readFileSync(from);
  } catch (err) {
    throw new BackupError(`cannot read ${from} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const notABackup = (why: string) => new BackupError(`${from} is not a backup written by \`js-result-service backup\` (${why})`);
  if (archive.length < 2 || archive[0] !== GZIP_MAGIC[0] || archive[1] !== GZIP_MAGIC[1]) throw notABackup('not gzip');
  let tar: Buffer;
  try {
    // Unpacked here, whole, so that a damaged file is refused before anything is written (PGlite's
    // own unpacking fails outside any promise the caller could catch).
    tar = gunzipSync(archive);
  } catch {
    throw notABackup('damaged or truncated');
  }
  if (tar.subarray(257, 262).toString('latin1') !== 'ustar') throw notABackup('not a tar archive');
  const refuseNonEmpty = () => {
    if (entriesOf(dataDir).length > 0) {
      throw new BackupError(`${dataDir} is not empty: restore only into a new or empty directory (set DATA_DIR to one)`);
    }
  };
  if (existsSync(dataDir) && !statSync(dataDir).isDirectory()) throw new BackupError(`${dataDir} is not a directory (DATA_DIR)`);
  refuseNonEmpty();
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const unlock = await lockFor(dataDir, 'restore');
  let restored = false;
  try {
    // A server or another restore may have started on the empty directory before the lock was ours.
    refuseNonEmpty();
    const db = await PGlite.create(dataDir, { loadDataDir: new Blob([new Uint8Array(tar)]) });
    try {
      const counts = await db.query<{ tokens: number; results: number; secrets: number }>(
        `SELECT (SELECT count(*)::int FROM token) AS tokens, (SELECT count(*)::int FROM js_result) AS results,
                (SELECT count(*)::int FROM server_secret) AS secrets`,
      );
      const { tokens, results, secrets } = counts.rows[0];
      if (secrets === 0) throw new BackupError(`${from} holds no server secret: not a js-result-service database`);
      restored = true;
      return { dataDir, tokens, results };
    } catch (err) {
      if (err instanceof BackupError) throw err;
      throw new BackupError(`${from} is not a js-result-service database backup (${err instanceof Error ? err.message : String(err)})`);
    } finally {
      await db.close();
    }
  } catch (err) {
    if (err instanceof BackupError) throw err;
    throw new BackupError(`${from} could not be restored (${err instanceof Error ? err.message : String(err)})`);
  } finally {
    await unlock();
    // Half a restore is worse than none: the directory is left empty for the next attempt.
    if (!restored) for (const name of entriesOf(dataDir)) rmSync(join(dataDir, name), { recursive: true, force: true });
  }
}
