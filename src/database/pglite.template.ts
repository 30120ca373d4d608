import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { threadId } from 'node:worker_threads';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { PGlite } from '@electric-sql/pglite';

/**
 * A new embedded database starts as a copy of a freshly initialised cluster
 * instead of running initdb: initdb is most of a first start's time (seconds of
 * WebAssembly, with a second engine alive beside the first while it runs).
 * The copy is made from the first initdb on the machine and kept, per PGlite
 * version, where tools keep caches (node_modules/.cache); it holds only the
 * empty cluster, never data.
 */
export function templateFile(): string | undefined {
  try {
    const packageDir = resolve(dirname(require.resolve('@electric-sql/pglite')), '..');
    const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string };
    return join(packageDir, '..', '..', '.cache', 'js-result-service', `pglite-${version}-cluster.tar.gz`);
  } catch {
    return undefined;
  }
}

/** Whether opening `dataDir` makes a new cluster there (memory is always new). */
export function isNewCluster(dataDir: string): boolean {
  return dataDir === 'memory://' || !existsSync(join(dataDir, 'PG_VERSION'));
}

/** The data directory's lock (data-dir.lock.ts): never part of a template. */
const LOCK_ENTRY = /(^|\/)\.lock(\/|$)/;

/**
 * Unpacks the template into a new data directory (locked by the caller), so
 * the database thread opens an existing cluster: written by the file system
 * directly rather than file by file through the engine's. Returns whether it
 * did; an unreadable template is removed, and what it left is cleared.
 */
export function unpackTemplate(file: string, dataDir: string): boolean {
  if (!existsSync(file)) return false;
  try {
    // Loaded here: only a new database needs it, and a restart should not pay for loading it.
    const { x: extract } = require('tar') as typeof import('tar');
    // Not strict: PGlite's archives name their entries from /, which tar strips with a warning.
    extract({ file, cwd: dataDir, sync: true, filter: (path) => !LOCK_ENTRY.test(path) });
    return true;
  } catch {
    rmSync(file, { force: true });
    for (const name of readdirSync(dataDir)) if (name !== '.lock') rmSync(join(dataDir, name), { recursive: true, force: true });
    return false;
  }
}

/** The template's tar, or undefined when there is none or it is unreadable (then it is removed, and made again). */
export function readTemplate(file: string): Blob | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return new Blob([new Uint8Array(gunzipSync(readFileSync(file)))]);
  } catch {
    rmSync(file, { force: true });
    return undefined;
  }
}

/**
 * Keeps the cluster `db` holds, just initialised, as the template. Written
 * beside its place and renamed, so two processes making it at once leave one
 * whole file; a cache that cannot be written only means initdb runs next time.
 */
export async function writeTemplate(db: PGlite, file: string): Promise<void> {
  const partial = `${file}.${process.pid}-${threadId}.partial`;
  try {
    // Everything is in the data files, so a copy starts without replaying WAL.
    await db.exec('CHECKPOINT');
    const tar = Buffer.from(await (await db.dumpDataDir('none')).arrayBuffer());
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(partial, gzipSync(tar, { level: 1 }));
    renameSync(partial, file);
  } catch {
    rmSync(partial, { force: true });
  }
}
