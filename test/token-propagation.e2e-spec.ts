import { Client } from 'pg';
import { createPostgresDatabase, LOCAL_POSTGRES_URL, postgresReachable, type TestDatabase } from './support/test-database';
import { rpcOver, runCli, type ServerProcess, startServer } from './support/processes';

const CREDENTIAL = /^[A-Za-z0-9]{16}:[A-Za-z0-9]{32}$/m;
/** The longest cache TTL the configuration allows: without propagation every change below would go unseen this long. */
const TTL_MS = '2000';

const readWorkers = (pattern: string) => [{ scopes: ['global'], permissions: [{ js_result: { read: pattern } }] }];
/** A read naming one worker: 102 unless the token may read it (no rows needed to tell). */
const readWorker = (token: string, worker: string) => ({ token, query: { condition: [{ js_worker_name: worker }] } });

/**
 * Two real server processes on one PostgreSQL database: a token changed
 * through one instance (or the CLI, or plain SQL) is in force on the other on
 * the very next call, although the other has it cached.
 */
describe('token changes on every instance at once (postgres, two processes)', () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  let a: ServerProcess;
  let b: ServerProcess;
  let superToken: string;
  let available = true;

  beforeAll(async () => {
    available = await postgresReachable();
    if (!available) return;
    database = await createPostgresDatabase(LOCAL_POSTGRES_URL);
    env = { DATABASE_URL: (database.target as { url: string }).url, TOKEN_CACHE_TTL_MS: TTL_MS };
    a = await startServer(env);
    superToken = a.output().match(CREDENTIAL)![0];
    b = await startServer(env);
  }, 120_000);

  afterAll(async () => {
    if (!available) return;
    await Promise.all([a?.stop(), b?.stop()]);
    await database.drop();
  });

  /** Skips quietly where no PostgreSQL server runs (the embedded database has one process by construction). */
  const onPostgres = (name: string, test: () => Promise<void>) =>
    it(name, async () => {
      if (!available) return console.warn(`skipped: no PostgreSQL server at ${LOCAL_POSTGRES_URL}`);
      await test();
    });

  async function createToken(limits: unknown, account: { username?: string; password?: string } = {}): Promise<string> {
    const reply = await rpcOver(a.port, 'token_create', { father_token: superToken, token_creation: { token_limit: limits, ...account } });
    expect(reply.error).toBeUndefined();
    return `${reply.result.key}:${reply.result.secret}`;
  }

  /** Uses the token on B so that B holds it in its cache. */
  async function warm(token: string, worker = 'app_1'): Promise<void> {
    expect((await rpcOver(b.port, 'js-result_query', readWorker(token, worker))).result).toEqual([]);
  }

  onPostgres('a token deleted on one instance is refused by the other on the next call', async () => {
    const token = await createToken(readWorkers('*'));
    await warm(token);
    expect((await rpcOver(a.port, 'token_delete', { token: superToken, target_token: token.split(':')[0] })).result.rows_affected).toBe(1);
    expect((await rpcOver(b.port, 'js-result_query', readWorker(token, 'app_1'))).error).toMatchObject({ code: 102 });
  });

  onPostgres('a rolled secret: the old one refused and the new one accepted on the other instance at once', async () => {
    const token = await createToken(readWorkers('*'));
    await warm(token);
    const rolled = (await rpcOver(a.port, 'token_roll_token_secret', { token: superToken, target_token: token })).result;
    expect((await rpcOver(b.port, 'js-result_query', readWorker(token, 'app_1'))).error).toMatchObject({ code: 102 });
    expect((await rpcOver(b.port, 'js-result_query', readWorker(`${rolled.key}:${rolled.secret}`, 'app_1'))).result).toEqual([]);
  });

  onPostgres('edited limits re-scope the token on the other instance on the next call, both ways', async () => {
    const token = await createToken(readWorkers('app_*'));
    await warm(token);
    expect((await rpcOver(b.port, 'js-result_query', readWorker(token, 'ops_1'))).error).toMatchObject({ code: 102 });

    await rpcOver(a.port, 'token_edit', { token: superToken, target_token: token, limit: readWorkers('ops_*') });
    expect((await rpcOver(b.port, 'js-result_query', readWorker(token, 'ops_1'))).result).toEqual([]);
    expect((await rpcOver(b.port, 'js-result_query', readWorker(token, 'app_1'))).error).toMatchObject({ code: 102 });
  });

  onPostgres('a changed password: the old one refused and the new one accepted on the other instance at once', async () => {
    await createToken(readWorkers('*'), { username: 'carol', password: 'first' });
    await warm('carol|first');
    await rpcOver(a.port, 'token_change_password', { token: superToken, target_token: 'carol', new_password: 'second' });
    expect((await rpcOver(b.port, 'js-result_query', readWorker('carol|first', 'app_1'))).error).toMatchObject({ code: 102 });
    expect((await rpcOver(b.port, 'js-result_query', readWorker('carol|second', 'app_1'))).result).toEqual([]);
  });

  onPostgres('a change made by the CLI is in force on both running instances on the next call', async () => {
    const token = await createToken(readWorkers('*'));
    await warm(token);
    expect((await rpcOver(a.port, 'js-result_query', readWorker(token, 'app_1'))).result).toEqual([]);
    const deleted = await runCli(['token', 'delete', token.split(':')[0]], env);
    expect(deleted.code).toBe(0);
    for (const server of [a, b]) {
      expect((await rpcOver(server.port, 'js-result_query', readWorker(token, 'app_1'))).error).toMatchObject({ code: 102 });
    }
  });

  onPostgres('two instances creating the same username at once: exactly one succeeds', async () => {
    for (let round = 0; round < 5; round++) {
      const creation = { token_limit: [], username: `race_${round}`, password: 'pw' };
      const replies = await Promise.all(
        [a, b].map((server) => rpcOver(server.port, 'token_create', { father_token: superToken, token_creation: creation })),
      );
      expect(replies.filter((reply) => reply.result !== undefined)).toHaveLength(1);
      expect(replies.filter((reply) => reply.error?.code === 108)).toHaveLength(1);
    }
  });

  onPostgres('after its notification connection is cut, an instance drops its cache and listens again', async () => {
    const token = await createToken(readWorkers('*'));
    await warm(token);
    const admin = new Client({ connectionString: env.DATABASE_URL });
    await admin.connect();
    try {
      const cut = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'js-result-service token listener'`,
      );
      expect(cut.rowCount).toBe(2);
      // Changed behind every instance's back while they are not listening: only the TTL can catch this.
      await admin.query(`UPDATE token SET token_limit = '[]'::jsonb WHERE token_key = $1`, [token.split(':')[0]]);
      const deadline = Date.now() + Number(TTL_MS) + 1_000;
      let refused = false;
      while (!refused && Date.now() < deadline) {
        refused = (await rpcOver(b.port, 'js-result_query', readWorker(token, 'app_1'))).error?.code === 102;
        if (!refused) await new Promise((r) => setTimeout(r, 50));
      }
      expect(refused).toBe(true);

      // Listening again: the next change is heard at once, however long the TTL.
      await waitFor(async () => (await listeners(admin)) === 2, 10_000);
      const other = await createToken(readWorkers('*'));
      await warm(other);
      await admin.query(`UPDATE token SET token_limit = '[]'::jsonb WHERE token_key = $1`, [other.split(':')[0]]);
      await new Promise((r) => setTimeout(r, 100));
      expect((await rpcOver(b.port, 'js-result_query', readWorker(other, 'app_1'))).error).toMatchObject({ code: 102 });
    } finally {
      await admin.end();
    }
  });
});

async function listeners(admin: Client): Promise<number> {
  const { rows } = await admin.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE datname = current_database() AND application_name = 'js-result-service token listener'`,
  );
  return rows[0].n;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
