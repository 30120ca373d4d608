import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { isDatabaseUnavailable } from './database.errors';
import { JSON_AS_TEXT } from './json-as-text';
import { type EmbeddedDatabase, type PgliteClient, pgliteDriver } from './pglite.pool';

type Release = () => void;
type Pool = {
  connect(callback?: (err: Error | null, client: PgliteClient | null, release: Release) => void): Promise<PgliteClient> | void;
  query(text: string): Promise<{ rows: unknown[] }>;
  end(): Promise<void>;
};

/** A session and how to give it back, as TypeORM takes one. */
const lease = (pool: Pool) =>
  new Promise<[PgliteClient, Release]>((resolve, reject) =>
    pool.connect((err, client, release) => (err ? reject(err) : resolve([client!, release]))),
  );

describe(pgliteDriver.name, () => {
  let dir: string;
  let opened: PGlite[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jsr-pglite-'));
    opened = [];
  });

  afterEach(async () => {
    for (const db of opened) if (!db.closed) await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A pool over an engine the test can break; in memory when `reopenable` is false. */
  function poolOver(reopenable: boolean): Pool {
    const open = async (): Promise<EmbeddedDatabase> => {
      const db = await PGlite.create(reopenable ? dir : 'memory://');
      opened.push(db);
      return { db, reopenable, close: async () => (db.closed ? undefined : db.close()) };
    };
    const { Pool } = pgliteDriver(open);
    return new Pool() as unknown as Pool;
  }

  it('reports a statement the engine rejects as the statement’s fault', async () => {
    const sut = poolOver(false);
    const failure = await sut.query('SELEC 1').catch((err: unknown) => err);
    expect(isDatabaseUnavailable(failure)).toBe(false);
    await sut.end();
  });

  it('reports an engine closed under a session as unavailable, then opens its directory again', async () => {
    const sut = poolOver(true);
    await sut.query('CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)');
    const [session, release] = await lease(sut);
    await opened[0].close();

    const failure = await session.query('SELECT n FROM kept').catch((err: unknown) => err);
    expect(isDatabaseUnavailable(failure)).toBe(true);
    release();
    expect((await sut.query('SELECT n FROM kept')).rows).toEqual([{ n: 7 }]);
    expect(opened).toHaveLength(2);
    await sut.end();
  });

  it('keeps reporting a failed in-memory engine as unavailable: its data went with it', async () => {
    const sut = poolOver(false);
    await sut.query('SELECT 1');
    await opened[0].close();

    for (let attempt = 0; attempt < 2; attempt++) {
      const failure = await sut.query('SELECT 1').catch((err: unknown) => err);
      expect(isDatabaseUnavailable(failure)).toBe(true);
    }
    expect(opened).toHaveLength(1);
    await sut.end();
  });

  it('reads json and jsonb as their text, unparsed, only for a statement marked JSON_AS_TEXT', async () => {
    const sut = poolOver(false);
    const [client, release] = await lease(sut);
    try {
      const sent = '{"b": [1, 2.50, {"k": null}]}';
      const row = 'SELECT $1::jsonb AS b, $1::json AS j, $2::int AS n';
      const rowsOf = async (text: string) => ((await client.query(text, [sent, 7])) as { rows: unknown[] }).rows;
      expect(await rowsOf(JSON_AS_TEXT + row)).toEqual([{ b: sent, j: sent, n: 7 }]);
      expect(await rowsOf(row)).toEqual([{ b: { b: [1, 2.5, { k: null }] }, j: { b: [1, 2.5, { k: null }] }, n: 7 }]);
    } finally {
      release();
      await sut.end();
    }
  });

  it('reports a pool that was ended as unavailable', async () => {
    const sut = poolOver(false);
    await sut.end();
    expect(isDatabaseUnavailable(await lease(sut).catch((err: unknown) => err))).toBe(true);
  });
});
