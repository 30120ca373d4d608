import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { call, queryParams, rpc, seed, startTestApp, type TestApp } from './support/test-app';
import { T0 } from './support/fixtures';
import { createPostgresDatabase, LOCAL_POSTGRES_URL, postgresReachable, type TestDatabase } from './support/test-database';
import { TcpProxy } from './support/tcp-proxy';

const UNAVAILABLE = { code: 103, message: 'Database error: the database is unavailable, try again later' };
const TIMED_OUT = { code: 103, message: 'Database error: the query timed out' };
const POOL_WAIT_MS = 500;
const STATEMENT_TIMEOUT_MS = 1_500;
/** Longer than any wait the service may do for one call; a reply later than this is a hang. */
const ANSWER_BOUND_MS = POOL_WAIT_MS + STATEMENT_TIMEOUT_MS + 1_000;

/**
 * Every way of failing to get or keep a connection is 103 with nothing
 * leaked, answered within the configured waits, and the service is whole again
 * once the condition clears, without a restart. PostgreSQL only: the modes are
 * a server's. The app runs as a role of its own on a database of its own,
 * through a proxy the test can cut, so nothing shared is touched.
 */
describe('database failures (postgres)', () => {
  let database: TestDatabase | undefined;
  let proxy: TcpProxy;
  let t: TestApp;
  let admin: Client;
  let dbName: string;
  const role = `jsr_role_${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    if (!(await postgresReachable())) {
      console.warn(`database failures test skipped: no PostgreSQL server at ${LOCAL_POSTGRES_URL}`);
      return;
    }
    database = await createPostgresDatabase(LOCAL_POSTGRES_URL);
    const real = new URL((database.target as { url: string }).url);
    dbName = real.pathname.slice(1);
    admin = new Client({ connectionString: LOCAL_POSTGRES_URL });
    admin.on('error', () => undefined);
    await admin.connect();
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'not-a-leak'`);
    await admin.query(`ALTER DATABASE ${dbName} OWNER TO ${role}`);
    proxy = new TcpProxy(real.hostname, Number(real.port || 5432));
    await proxy.start();
    const viaProxy = new URL(real);
    viaProxy.port = String(proxy.port);
    viaProxy.username = role;
    viaProxy.password = 'not-a-leak';
    const target = { kind: 'postgres' as const, url: viaProxy.toString() };
    t = await startTestApp(
      { database: target, poolSize: 1, poolWaitMs: POOL_WAIT_MS, statementTimeoutMs: STATEMENT_TIMEOUT_MS, tokenCacheTtlMs: 0 },
      { target, drop: async () => undefined },
    );
    await seed(t.dataSource, Array.from({ length: 3 }, (_, i) => ({ jsWorkerName: 'w', startTime: T0 + i, result: i })));
  });

  afterAll(async () => {
    if (!database) return;
    await proxy.start();
    await t.close();
    await proxy.cut();
    await database.drop();
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.end();
  });

  const query = () => rpc(t.app, call('js-result_query', queryParams(t.superToken, [{ js_worker_name: 'w' }])));
  // Matches nothing: a delete cut off from its client may still run on the server once the lock is free.
  const remove = () => rpc(t.app, call('js-result_delete', queryParams(t.superToken, [{ js_worker_name: 'nothing' }])));

  /** The reply, checked to be prompt and to name nothing of the database. */
  async function answered(reply: Promise<Awaited<ReturnType<typeof rpc>>>): Promise<any> {
    const started = Date.now();
    const { body, text } = await reply;
    expect(Date.now() - started).toBeLessThan(ANSWER_BOUND_MS);
    for (const secret of [dbName, role, 'not-a-leak', String(proxy.port), '5432', '127.0.0.1', t.superToken.split(':')[1]]) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toMatch(/select|delete from|js_result|ECONN|SQLSTATE/i);
    return body;
  }

  async function recovered(): Promise<void> {
    let body: any;
    for (let attempt = 0; attempt < 40 && !body?.result; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 150));
      body = (await query()).body;
    }
    expect(body.result).toHaveLength(3);
  }

  /** Drops the app's open connections, so that its next call must make a new one. */
  async function dropConnections(): Promise<void> {
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role]);
    // Lets the pool see its idle connections close, so the next call connects anew.
    await new Promise((r) => setTimeout(r, 200));
  }

  /** Holds an exclusive lock on js_result from a session of its own, until released. */
  async function lockResults(): Promise<() => Promise<void>> {
    const holder = new Client({ connectionString: (database!.target as { url: string }).url });
    holder.on('error', () => undefined);
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE js_result IN ACCESS EXCLUSIVE MODE');
    return async () => {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    };
  }

  it('times a statement out past DB_STATEMENT_TIMEOUT_MS, and bounds the wait for a busy pool', async () => {
    if (!database) return;
    await recovered();
    const release = await lockResults();
    try {
      const blocked = answered(remove());
      await new Promise((r) => setTimeout(r, 200));
      // The one pooled connection waits on the lock: this call cannot get one.
      expect((await answered(query())).error).toEqual(UNAVAILABLE);
      expect((await blocked).error).toEqual(TIMED_OUT);
    } finally {
      await release();
    }
    await recovered();
  });

  it('answers a statement whose connection drops, and calls while connections are refused', async () => {
    if (!database) return;
    const release = await lockResults();
    try {
      const blocked = answered(remove());
      await new Promise((r) => setTimeout(r, 300));
      await proxy.cut();
      expect((await blocked).error).toEqual(UNAVAILABLE);
      expect((await answered(query())).error).toEqual(UNAVAILABLE);
    } finally {
      await release();
      await proxy.start();
    }
    await recovered();
  });

  it('answers 103 while the database refuses connections (55000)', async () => {
    if (!database) return;
    await admin.query(`ALTER DATABASE ${dbName} WITH ALLOW_CONNECTIONS false`);
    try {
      await dropConnections();
      expect((await answered(query())).error).toEqual(UNAVAILABLE);
      expect((await answered(remove())).error).toEqual(UNAVAILABLE);
    } finally {
      await admin.query(`ALTER DATABASE ${dbName} WITH ALLOW_CONNECTIONS true`);
    }
    await recovered();
  });

  it('answers 103 when its role may no longer log in (28000)', async () => {
    if (!database) return;
    await admin.query(`ALTER ROLE ${role} NOLOGIN`);
    try {
      await dropConnections();
      expect((await answered(query())).error).toEqual(UNAVAILABLE);
    } finally {
      await admin.query(`ALTER ROLE ${role} LOGIN`);
    }
    await recovered();
  });

  it('answers 103 when its role has too many connections (53300)', async () => {
    if (!database) return;
    await admin.query(`ALTER ROLE ${role} CONNECTION LIMIT 0`);
    try {
      await dropConnections();
      expect((await answered(query())).error).toEqual(UNAVAILABLE);
    } finally {
      await admin.query(`ALTER ROLE ${role} CONNECTION LIMIT -1`);
    }
    await recovered();
  });

  it('answers 103 when its database is gone (3D000)', async () => {
    if (!database) return;
    await admin.query(`DROP DATABASE ${dbName} WITH (FORCE)`);
    await new Promise((r) => setTimeout(r, 200));
    expect((await answered(query())).error).toEqual(UNAVAILABLE);
    expect((await answered(remove())).error).toEqual(UNAVAILABLE);
  });
});
