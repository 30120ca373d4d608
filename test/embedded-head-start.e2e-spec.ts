import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { DataDirLockedError } from '../src/database/data-dir.lock';
import { openDataSource } from '../src/database/data-source.factory';
import { openEmbedded, startEmbeddedEarly } from '../src/database/pglite.head-start';
import { rpcOver, startServer } from './support/processes';

const settings = (dataDir: string) => ({ database: { kind: 'embedded' as const, dataDir }, poolSize: 1, statementTimeoutMs: 30_000 });
const noEvents = { notification: () => undefined, ended: () => undefined };

/**
 * The embedded database opened ahead of the app (main.ts starts it before
 * loading the app's modules): the DataSource takes that database rather than
 * opening a second one, and a failure to open it is the DataSource's, as
 * without a head start.
 */
describe('embedded database started ahead of the app', () => {
  let folder: string;
  let dataDir: string;

  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'jsr-head-start-'));
    dataDir = join(folder, 'data');
  });

  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  it('is taken by the DataSource of the same directory, which migrates and serves on it', async () => {
    await startEmbeddedEarly(dataDir);
    // A second open of a held directory fails on its lock: this one succeeds only by taking the early one.
    const dataSource: DataSource = await openDataSource(settings(dataDir));
    try {
      const [{ applied }] = await dataSource.query('SELECT count(*)::int AS applied FROM migrations');
      expect(applied).toBeGreaterThan(0);
      await expect(openEmbedded(dataDir, noEvents)).rejects.toBeInstanceOf(DataDirLockedError);
    } finally {
      await dataSource.destroy();
    }
    // Closed with the DataSource: the lock is given back.
    const reopened = await openEmbedded(dataDir, noEvents);
    await reopened.close();
  }, 120_000);

  it('reports a held directory through the DataSource, and leaves the holder as it was', async () => {
    const holder = await openEmbedded(dataDir, noEvents);
    try {
      await startEmbeddedEarly(dataDir);
      const refused: unknown = await openDataSource(settings(dataDir)).catch((err: unknown) => err);
      // As without a head start: the pool's ConnectionFailure, caused by the lock.
      expect((refused as Error).cause).toBeInstanceOf(DataDirLockedError);
      await expect(holder.thread.query(1, { text: 'SELECT 1 AS one', jsonAsText: false })).resolves.toMatchObject({ rows: [{ one: 1 }] });
    } finally {
      await holder.close();
    }
    // The failed head start is not kept: the next open, the directory free, succeeds.
    const dataSource = await openDataSource(settings(dataDir));
    await dataSource.destroy();
  }, 120_000);

  it('npm start: a second server on a held directory stops with the lock message; the first serves on', async () => {
    const first = await startServer({ DATA_DIR: dataDir });
    try {
      const superToken = first.output().match(/^[A-Za-z0-9]{16}:[A-Za-z0-9]{32}$/m)![0];
      await expect(startServer({ DATA_DIR: dataDir })).rejects.toThrow('is in use by another process (is the server running?)');
      const answer = await rpcOver(first.port, 'js-result_query', { token: superToken, query: { condition: [{ limit: 1 }] } });
      expect(answer.result).toEqual([]);
    } finally {
      await first.stop();
    }
  }, 120_000);
});
