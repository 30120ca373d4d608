import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { LOCAL_POSTGRES_URL, postgresReachable } from '../../test/support/test-database';
import { dataSourceOptions } from './data-source.factory';
import { JSON_AS_TEXT } from './json-as-text';
import { namingClient, PreparedStatements } from './prepared-statements';

describe(PreparedStatements.name, () => {
  it('gives each distinct text one stable name', () => {
    const sut = new PreparedStatements('t_');
    expect(sut.register('SELECT $1')).toBe('t_0');
    expect(sut.register('SELECT $1, $2')).toBe('t_1');
    expect(sut.register('SELECT $1')).toBe('t_0');
    expect(sut.nameOf('SELECT $1, $2')).toBe('t_1');
    expect(sut.nameOf('SELECT 1')).toBeUndefined();
  });

  it('names only its first `capacity` texts, so clients cannot grow the statements kept per connection', () => {
    const sut = new PreparedStatements('t_', 2);
    sut.register('a');
    sut.register('b');
    expect(sut.register('c')).toBeUndefined();
    expect(sut.nameOf('c')).toBeUndefined();
    expect(sut.register('a')).toBe('t_0');
    expect(sut.size).toBe(2);
  });
});

type PreparedRow = { name: string; statement: string };

/** What the server holds for the session `run` asks on: its prepared statements, by name. */
async function prepared(run: (text: string) => Promise<PreparedRow[]>): Promise<Record<string, string>> {
  const rows = await run('SELECT name, statement FROM pg_prepared_statements');
  return Object.fromEntries(rows.map((row) => [row.name, row.statement]));
}

const on = (client: Client) => async (text: string) => (await client.query<PreparedRow>(text)).rows;

describe(namingClient.name, () => {
  const SQUARE = 'SELECT $1::int * $1::int AS n';
  let skip: string | undefined;

  beforeAll(async () => {
    if (!(await postgresReachable())) {
      skip = `no PostgreSQL at ${LOCAL_POSTGRES_URL}`;
      console.warn(`naming client tests skipped: ${skip}`);
    }
  });

  async function connected(statements: PreparedStatements): Promise<Client> {
    const client = new (namingClient(statements))({ connectionString: LOCAL_POSTGRES_URL });
    await client.connect();
    return client;
  }

  it('sends a registered text as a named statement, which the connection then reuses for other values', async () => {
    if (skip) return;
    const statements = new PreparedStatements('t_');
    statements.register(SQUARE);
    const sut = await connected(statements);
    try {
      expect((await sut.query(SQUARE, [3])).rows).toEqual([{ n: 9 }]);
      // The callback form is the one TypeORM's older paths use.
      const viaCallback = await new Promise((resolve, reject) =>
        sut.query(SQUARE, [4], (err: Error | null, res: { rows: unknown[] }) => (err ? reject(err) : resolve(res.rows))),
      );
      expect(viaCallback).toEqual([{ n: 16 }]);
      expect(await prepared(on(sut))).toEqual({ t_0: SQUARE });
    } finally {
      await sut.end();
    }
  });

  it('sends texts it does not know, and texts past the capacity, unnamed', async () => {
    if (skip) return;
    const statements = new PreparedStatements('t_', 1);
    statements.register('SELECT 1 AS one');
    statements.register(SQUARE);
    const sut = await connected(statements);
    try {
      expect((await sut.query(SQUARE, [5])).rows).toEqual([{ n: 25 }]);
      expect((await sut.query('SELECT $1::text AS s', ['x'])).rows).toEqual([{ s: 'x' }]);
      expect(await prepared(on(sut))).toEqual({});
    } finally {
      await sut.end();
    }
  });

  it('reads json and jsonb as their text, unparsed, only for a statement marked JSON_AS_TEXT, named or not', async () => {
    if (skip) return;
    const statements = new PreparedStatements('t_');
    const JSON_ROW = `SELECT $1::jsonb AS b, $1::json AS j, $2::int AS n, $3::bigint AS big`;
    statements.register(JSON_AS_TEXT + JSON_ROW);
    const sut = await connected(statements);
    try {
      const sent = '{"b": [1, 2.50, {"k": null}]}';
      const asText = { b: '{"b": [1, 2.50, {"k": null}]}', j: sent, n: 7, big: '9007199254740993' };
      expect((await sut.query(JSON_AS_TEXT + JSON_ROW, [sent, 7, '9007199254740993'])).rows).toEqual([asText]);
      // Unnamed, the same: the mark is read from the text, not from the registry.
      expect((await sut.query(`${JSON_AS_TEXT}${JSON_ROW} `, [sent, 7, '9007199254740993'])).rows).toEqual([asText]);
      // Without the mark, pg parses them as usual.
      expect((await sut.query(JSON_ROW, [sent, 7, '9007199254740993'])).rows).toEqual([
        { b: { b: [1, 2.5, { k: null }] }, j: { b: [1, 2.5, { k: null }] }, n: 7, big: '9007199254740993' },
      ]);
      expect(await prepared(on(sut))).toEqual({ t_0: JSON_AS_TEXT + JSON_ROW });
    } finally {
      await sut.end();
    }
  });

  it("is the pool's client of a PostgreSQL DataSource: registered texts run by dataSource.query are named", async () => {
    if (skip) return;
    const statements = new PreparedStatements('t_');
    const options = dataSourceOptions({ database: { kind: 'postgres', url: LOCAL_POSTGRES_URL }, poolSize: 1, statementTimeoutMs: 5_000 }, statements);
    const dataSource = await new DataSource(options).initialize();
    try {
      statements.register(SQUARE);
      expect(await dataSource.query(SQUARE, [6])).toEqual([{ n: 36 }]);
      // One pooled connection, so this asks the session that ran it.
      expect(await prepared((text) => dataSource.query<PreparedRow[]>(text))).toEqual({ t_0: SQUARE });
    } finally {
      await dataSource.destroy();
    }
  });
});
