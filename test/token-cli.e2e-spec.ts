import { createHash } from 'node:crypto';
import { Client } from 'pg';
import { createPostgresDatabase, LOCAL_POSTGRES_URL, postgresReachable, type TestDatabase } from './support/test-database';
import { rpcOver, runCli, startServer } from './support/processes';

const CREDENTIAL = /^([A-Za-z0-9]{16}):[A-Za-z0-9]{32}$/;
const READ_ALL = [{ scopes: ['global'], permissions: [{ js_result: { read: '*' } }] }];
const READ_OPS = [{ scopes: [{ js_worker: 'ops_*' }], permissions: [{ js_result: { read: 'ops_*' } }] }];
const queryWorker = (token: string, worker: string) => ({ token, query: { condition: [{ js_worker_name: worker }] } });
const lastJson = (result: { lastLine: string }) => JSON.parse(result.lastLine);

/** NodeGet's hash of secrets, and of passwords too. */
const nodeGetHash = (text: string) => createHash('sha256').update(`NODEGET${text}`).digest('hex');

/**
 * The operator's token commands, as real processes, checked through a real
 * server. On PostgreSQL: each command opens the database afresh, which the
 * embedded database takes seconds to do (its CLI path, the same code, is in
 * cli.e2e-spec.ts).
 */
describe('token administration from the CLI (postgres)', () => {
  let database: TestDatabase | undefined;
  let env: Record<string, string>;

  beforeEach(async () => {
    if (!(await postgresReachable())) return;
    database = await createPostgresDatabase(LOCAL_POSTGRES_URL);
    env = { DATABASE_URL: (database.target as { url: string }).url };
  });

  afterEach(async () => {
    await database?.drop();
    database = undefined;
  });

  const onPostgres = (name: string, test: () => Promise<void>) =>
    it(name, async () => {
      if (!database) return console.warn(`skipped: no PostgreSQL server at ${LOCAL_POSTGRES_URL}`);
      await test();
    });

  onPostgres('lists, gets, edits, rolls, re-passwords and deletes tokens, each result on the last line', async () => {
    const superToken = (await runCli(['super-token', 'roll'], env)).lastLine;
    const created = await runCli(['token', 'create', '--limits', JSON.stringify(READ_ALL), '--username', 'ops', '--password-stdin'], env, 'first\n');
    const [, key] = created.lastLine.match(CREDENTIAL)!;

    const listed = await runCli(['token', 'list'], env);
    expect(listed.code).toBe(0);
    expect(lastJson(listed).tokens.map((t: { username: string }) => t.username)).toEqual(['root', 'ops']);
    for (const secret of [superToken, created.lastLine].map((c) => c.split(':')[1])) expect(listed.stdout).not.toContain(secret);

    const byName = lastJson(await runCli(['token', 'get', 'ops'], env));
    expect(byName).toEqual({ version: 1, token_key: key, timestamp_from: null, timestamp_to: null, token_limit: READ_ALL, username: 'ops' });
    expect(lastJson(await runCli(['token', 'get', key], env))).toEqual(byName);

    expect(lastJson(await runCli(['token', 'edit', 'ops', '--limits', JSON.stringify(READ_OPS)], env))).toEqual({ success: true, id: 2, token_key: key });
    const rolled = await runCli(['token', 'roll', key], env);
    expect(rolled.lastLine.match(CREDENTIAL)?.[1]).toBe(key);
    // The password comes on standard input, never in argv where `ps` would show it.
    const password = await runCli(['token', 'password', 'ops'], env, 'second\n');
    expect(lastJson(password)).toEqual({ success: true, message: 'Password changed successfully' });

    const server = await startServer(env);
    try {
      expect((await rpcOver(server.port, 'js-result_query', queryWorker(created.lastLine, 'ops_1'))).error.code).toBe(102);
      expect((await rpcOver(server.port, 'js-result_query', queryWorker(rolled.lastLine, 'ops_1'))).result).toEqual([]);
      expect((await rpcOver(server.port, 'js-result_query', queryWorker(rolled.lastLine, 'app_1'))).error.code).toBe(102);
      expect((await rpcOver(server.port, 'js-result_query', queryWorker('ops|first', 'ops_1'))).error.code).toBe(102);
      expect((await rpcOver(server.port, 'js-result_query', queryWorker('ops|second', 'ops_1'))).result).toEqual([]);
      const audited = (await rpcOver(server.port, 'audit_query', { token: superToken })).result.entries;
      expect(audited.map((e: { method: string; origin: string }) => `${e.origin}:${e.method}`)).toEqual([
        'cli:token_change_password',
        'cli:token_roll_token_secret',
        'cli:token_edit',
        'cli:token_create',
        'cli:super_token_roll',
      ]);
      expect(JSON.stringify(audited)).not.toContain('second');
      expect(JSON.stringify(audited)).not.toContain('first');
    } finally {
      await server.stop();
    }

    const deleted = await runCli(['token', 'delete', 'ops'], env);
    expect(lastJson(deleted)).toEqual({ message: 'Token ops deleted successfully by SuperToken', rows_affected: 1, matched_by: 'username' });
    expect(lastJson(await runCli(['token', 'list'], env)).tokens).toHaveLength(1);
  });

  onPostgres('refuses bad input with a clear error and a non-zero exit, and writes nothing', async () => {
    const superToken = (await runCli(['super-token', 'roll'], env)).lastLine;
    const created = (await runCli(['token', 'create', '--limits', JSON.stringify(READ_ALL), '--username', 'ops', '--password-stdin'], env, 'pw')).lastLine;
    const before = (await runCli(['token', 'list'], env)).lastLine;

    const refusals: [string[], string | undefined, RegExp][] = [
      [['token', 'get', 'nobody'], undefined, /Token not found by key\/username: nobody/],
      [['token', 'delete', 'root'], undefined, /SuperToken cannot be deleted/],
      [['token', 'edit', 'root', '--limits', '[]'], undefined, /SuperToken cannot be edited/],
      [['token', 'edit', 'ops', '--limits', '[{"scopes":5,"permissions":[]}]'], undefined, /token_limit: \[0\]\.scopes: expected an array/],
      [['token', 'edit', 'ops', '--limits', '[{'], undefined, /expected JSON/],
      [['token', 'edit', ''], undefined, /required option '--limits/],
      [['token', 'roll', ''], undefined, /target_token cannot be empty/],
      [['token', 'roll', '  '], undefined, /target_token cannot be empty/],
      [['token', 'password', 'ops'], '', /password must not be empty/],
    ];
    for (const [args, input, message] of refusals) {
      const result = await runCli(args, env, input);
      expect({ args, code: result.code === 0 ? 'success' : 'failure', stderr: result.stderr }).toEqual({
        args,
        code: 'failure',
        stderr: expect.stringMatching(message),
      });
    }
    expect((await runCli(['token', 'list'], env)).lastLine).toBe(before);

    const server = await startServer(env);
    try {
      expect((await rpcOver(server.port, 'js-result_query', queryWorker(created, 'a'))).result).toEqual([]);
      expect((await rpcOver(server.port, 'js-result_query', queryWorker('ops|pw', 'a'))).result).toEqual([]);
      const methods = (await rpcOver(server.port, 'audit_query', { token: superToken })).result.entries.map((e: { method: string }) => e.method);
      expect(methods).toEqual(['token_create', 'super_token_roll']);
    } finally {
      await server.stop();
    }
  });
});

describe('import-nodeget (postgres)', () => {
  it("copies NodeGet's tokens, skipping its super token and existing keys and usernames; imported credentials work", async () => {
    if (!(await postgresReachable())) return console.warn(`skipped: no PostgreSQL server at ${LOCAL_POSTGRES_URL}`);
    const nodeget = await createPostgresDatabase(LOCAL_POSTGRES_URL);
    const ours = await createPostgresDatabase(LOCAL_POSTGRES_URL);
    const nodegetUrl = (nodeget.target as { url: string }).url;
    const env = { DATABASE_URL: (ours.target as { url: string }).url };
    try {
      await runCli(['super-token', 'roll'], env);
      const existing = (await runCli(['token', 'create', '--limits', '[]', '--username', 'taken', '--password-stdin'], env, 'pw')).lastLine;
      const existingKey = existing.split(':')[0];

      const source = new Client({ connectionString: nodegetUrl });
      await source.connect();
      try {
        // NodeGet's own table, as its migration m20260131_112949_create_token makes it.
        await source.query(`CREATE TABLE token (
          id bigserial PRIMARY KEY, version integer NOT NULL, token_key varchar NOT NULL UNIQUE, token_hash varchar NOT NULL,
          time_stamp_from bigint, time_stamp_to bigint, token_limit jsonb NOT NULL, username varchar UNIQUE, password_hash varchar)`);
        const insert = 'INSERT INTO token VALUES ($1, 1, $2, $3, $4, $5, $6, $7, $8)';
        await source.query(insert, [1, 'NodeGetSuperKey1', nodeGetHash('s'), null, null, '[]', 'root', nodeGetHash('rootpw')]);
        await source.query(insert, [2, 'ImportedKey00001', nodeGetHash('importedsecret'), 1000, 9_000_000_000_000, JSON.stringify(READ_ALL), 'alice', nodeGetHash('alicepw')]);
        await source.query(insert, [3, existingKey, nodeGetHash('other'), null, null, '[]', null, null]);
        await source.query(insert, [4, 'ClashingUser0001', nodeGetHash('x'), null, null, '[]', 'taken', nodeGetHash('y')]);
      } finally {
        await source.end();
      }

      const imported = await runCli(['import-nodeget', '--from', nodegetUrl], env);
      expect(imported.code).toBe(0);
      expect(lastJson(imported)).toEqual({
        imported: 1,
        skipped_existing_key: 1,
        skipped_username_taken: 1,
        skipped_super_token: 1,
        // This NodeGet database has no crontab tables (crontab-import.e2e-spec.ts has one that does).
        crontab: { imported: 0, skipped_name_taken: 0, skipped_agent: 0, results_imported: 0 },
      });
      expect(lastJson(await runCli(['import-nodeget', '--from', nodegetUrl], env)).imported).toBe(0);

      const server = await startServer(env);
      try {
        expect((await rpcOver(server.port, 'js-result_query', queryWorker('ImportedKey00001:importedsecret', 'w'))).result).toEqual([]);
        // NodeGet's password hash works once, and is replaced with scrypt by that login.
        expect((await rpcOver(server.port, 'token_get', { token: 'alice|alicepw' })).result).toMatchObject({ token_key: 'ImportedKey00001', timestamp_from: 1000 });
        const [row] = await queryOne(env.DATABASE_URL, "SELECT password_hash FROM token WHERE username = 'alice'");
        expect(row.password_hash).toMatch(/^scrypt\$/);
        expect((await rpcOver(server.port, 'token_get', { token: 'alice|alicepw' })).result.username).toBe('alice');
        expect((await rpcOver(server.port, 'token_get', { token: 'alice|wrong' })).error.code).toBe(102);
        expect((await rpcOver(server.port, 'token_get', { token: 'taken|pw' })).result.token_key).toBe(existingKey);
      } finally {
        await server.stop();
      }
    } finally {
      await Promise.all([nodeget.drop(), ours.drop()]);
    }
  });
});

async function queryOne(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}
