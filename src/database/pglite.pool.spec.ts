import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDatabaseUnavailable } from './database.errors';
import { JSON_AS_TEXT } from './json-as-text';
import { type EmbeddedDatabase, type PgliteClient, pgliteDriver } from './pglite.pool';
import { EMBEDDED_POSTGRES_SETTINGS } from './pglite.protocol';
import { templateFile } from './pglite.template';
import { PgliteThread } from './pglite.thread';
import { PreparedStatements } from './prepared-statements';

type Release = () => void;
type Pool = {
  connect(callback?: (err: Error | null, client: PgliteClient | null, release: Release) => void): Promise<PgliteClient> | void;
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  end(): Promise<void>;
  readonly currentThread: Promise<PgliteThread | undefined>;
};

/** A session and how to give it back, as TypeORM takes one. */
const lease = (pool: Pool) =>
  new Promise<[PgliteClient, Release]>((resolve, reject) =>
    pool.connect((err, client, release) => (err ? reject(err) : resolve([client!, release]))),
  );

const failureOf = (work: Promise<unknown>) => work.then(() => undefined, (err: unknown) => err);

describe(pgliteDriver.name, () => {
  let dir: string;
  let opened: number;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jsr-pglite-'));
    opened = 0;
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A pool over a database thread the test can crash; in memory when `reopenable` is false. */
  function poolOver(reopenable: boolean, statements?: PreparedStatements): Pool {
    const { Pool } = pgliteDriver(async (events): Promise<EmbeddedDatabase> => {
      const settings = { dataDir: reopenable ? dir : 'memory://', settings: EMBEDDED_POSTGRES_SETTINGS, templateFile: templateFile() };
      const thread = await PgliteThread.start(settings, events);
      opened++;
      return { thread, reopenable, close: () => thread.close() };
    }, statements);
    return new Pool() as unknown as Pool;
  }

  const crash = async (pool: Pool) => (await pool.currentThread)!.crash();

  it('reports a statement the engine rejects as the statement’s fault, with its SQLSTATE', async () => {
    const sut = poolOver(false);
    const failure = await failureOf(sut.query('SELEC 1'));
    expect(isDatabaseUnavailable(failure)).toBe(false);
    expect(failure).toMatchObject({ code: '42601' });
    await sut.end();
  });

  it('reports a thread that crashed under a statement as unavailable, then opens its directory again on a new one', async () => {
    const sut = poolOver(true);
    await sut.query('CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)');
    const sleeping = failureOf(sut.query('SELECT pg_sleep(5)'));
    await crash(sut);

    expect(isDatabaseUnavailable(await sleeping)).toBe(true);
    expect((await sut.query('SELECT n FROM kept')).rows).toEqual([{ n: 7 }]);
    expect(opened).toBe(2);
    await sut.end();
  });

  it('fails the rest of a transaction whose thread crashed, instead of running it outside the transaction', async () => {
    const sut = poolOver(true);
    await sut.query('CREATE TABLE kept (n int)');
    const [session, release] = await lease(sut);
    await session.query('BEGIN');
    await session.query('INSERT INTO kept VALUES (1)');
    await crash(sut);

    expect(isDatabaseUnavailable(await failureOf(session.query('COMMIT')))).toBe(true);
    release();
    expect((await sut.query('SELECT count(*)::int AS n FROM kept')).rows).toEqual([{ n: 0 }]);
    await sut.end();
  });

  it('keeps reporting a crashed in-memory database as unavailable: its data went with the thread', async () => {
    const sut = poolOver(false);
    await sut.query('SELECT 1');
    await crash(sut);

    for (let attempt = 0; attempt < 2; attempt++) {
      expect(isDatabaseUnavailable(await failureOf(sut.query('SELECT 1')))).toBe(true);
    }
    expect(opened).toBe(1);
    await sut.end();
  });

  it('gives an open transaction the session to itself: other callers’ statements wait until it ends', async () => {
    const sut = poolOver(false);
    await sut.query('CREATE TABLE t (n int)');
    const [session, release] = await lease(sut);
    await session.query('BEGIN');
    await session.query('INSERT INTO t VALUES (1)');
    const outside = sut.query('SELECT count(*)::int AS n FROM t');
    await session.query('INSERT INTO t VALUES (2)');
    await session.query('ROLLBACK');
    release();

    expect((await outside).rows).toEqual([{ n: 0 }]);
    await sut.end();
  });

  it('rolls back a transaction whose lease was given back without ending it', async () => {
    const sut = poolOver(false);
    await sut.query('CREATE TABLE t (n int)');
    const [session, release] = await lease(sut);
    await session.query('BEGIN');
    await session.query('INSERT INTO t VALUES (1)');
    release();

    expect((await sut.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 0 }]);
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

  it('runs a registered text as a named statement: values serialised by their types, the same rows every time', async () => {
    const statements = new PreparedStatements();
    const text = JSON_AS_TEXT + 'SELECT $1::jsonb AS j, $2::text[] AS names, $3::bigint AS n, $4::int AS missing, (SELECT count(*)::int FROM pg_prepared_statements) AS named';
    statements.register(text);
    const sut = poolOver(false, statements);
    const values = [{ a: [1, 'x"y'] }, ['w_1', 'a,b', 'q"uote'], '9007199254740993', null];

    const first = (await sut.query(text, values)).rows;
    const again = (await sut.query(text, values)).rows;
    expect(first).toEqual([{ j: '{"a": [1, "x\\"y"]}', names: ['w_1', 'a,b', 'q"uote'], n: 9007199254740993n, missing: null, named: 1 }]);
    expect(again).toEqual(first);
    await sut.end();
  });

  it('reports a named statement’s error as the statement’s fault, and runs it again afterwards', async () => {
    const statements = new PreparedStatements();
    const text = 'SELECT 10 / $1::int AS q';
    statements.register(text);
    const sut = poolOver(false, statements);

    const failure = await failureOf(sut.query(text, [0]));
    expect(isDatabaseUnavailable(failure)).toBe(false);
    expect(failure).toMatchObject({ code: '22012' });
    expect((await sut.query(text, [5])).rows).toEqual([{ q: 2 }]);
    await sut.end();
  });

  it('hands on what a named statement announces, and its command and row count, as an unnamed one would', async () => {
    const statements = new PreparedStatements();
    const text = "WITH n AS (SELECT pg_notify('jsr_named', $1::text)) SELECT g FROM n, generate_series(1, $2::int) AS g";
    statements.register(text);
    const sut = poolOver(false, statements);
    const [client, release] = await lease(sut);
    const heard: string[] = [];
    await client.listen('jsr_named', (payload) => heard.push(payload));

    const result = (await client.query(text, ['é ✓', 3])) as { rows: unknown[]; rowCount: number; command: string };
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    expect(result).toMatchObject({ rows: [{ g: 1 }, { g: 2 }, { g: 3 }], rowCount: 3, command: 'SELECT' });
    expect(heard).toEqual(['é ✓']);
    await sut.end();
  });

  it('lets a named statement keep a generic plan once its custom plans cost no less (planning is dear in the engine)', async () => {
    const statements = new PreparedStatements();
    const text = 'SELECT count(*)::int AS n FROM pg_class WHERE oid = $1::oid';
    const name = statements.register(text);
    const sut = poolOver(false, statements);
    for (let i = 0; i < 8; i++) await sut.query(text, [1259]);

    const [plans] = (await sut.query('SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = $1', [name])).rows as { generic_plans: number }[];
    expect(plans.generic_plans).toBeGreaterThan(0);
    await sut.end();
  });

  it('keeps a LISTEN across a restart of the thread, and says that announcements may have been missed', async () => {
    const sut = poolOver(true);
    const [client, release] = await lease(sut);
    release();
    const heard: string[] = [];
    let restarts = 0;
    await client.listen('jsr_test', (payload) => heard.push(payload), () => restarts++);
    await crash(sut);

    await sut.query("SELECT pg_notify('jsr_test', 'after')");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(heard).toEqual(['after']);
    expect(restarts).toBe(1);
    await sut.end();
  });

  it('reports a pool that was ended as unavailable', async () => {
    const sut = poolOver(false);
    await sut.end();
    expect(isDatabaseUnavailable(await failureOf(lease(sut)))).toBe(true);
  });
});
