import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresDatabase, LOCAL_POSTGRES_URL, postgresReachable } from './support/test-database';
import { rpcOver, runCli, startServer } from './support/processes';

const TOKEN_LINE = /^[A-Za-z0-9]{16}:[A-Za-z0-9]{32}$/;
const READ_ALL = JSON.stringify([{ scopes: ['global'], permissions: [{ js_result: { read: '*' } }] }]);
const queryAll = (token: string) => ({ token, query: { condition: [{ limit: 1 }] } });

/** The operator's interface: `npm start` and the CLI, as real processes. */
describe('server start and CLI (embedded)', () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'jsr-cli-'));
  });

  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('creates the super token on first start, prints it once, and keeps it across restarts', async () => {
    const first = await startServer({ DATA_DIR: dataDir });
    await first.stop();
    const printed = first.output().match(/^[A-Za-z0-9]{16}:[A-Za-z0-9]{32}$/m)?.[0];
    expect(printed).toBeDefined();

    const second = await startServer({ DATA_DIR: dataDir });
    try {
      expect(second.output()).not.toMatch(TOKEN_LINE);
      expect(second.output()).not.toContain('Super token created');
      expect((await rpcOver(second.port, 'js-result_query', queryAll(printed!))).result).toEqual([]);
    } finally {
      await second.stop();
    }
  });

  it('rolls the super token and creates tokens, printing key:secret last', async () => {
    const rolled = await runCli(['super-token', 'roll'], { DATA_DIR: dataDir });
    expect(rolled.code).toBe(0);
    expect(rolled.lastLine).toMatch(TOKEN_LINE);
    const created = await runCli(['token', 'create', '--limits', READ_ALL, '--username', 'ops', '--password-stdin'], { DATA_DIR: dataDir }, 'pw\n');
    expect(created.code).toBe(0);
    expect(created.lastLine).toMatch(TOKEN_LINE);
    const rolledAgain = await runCli(['super-token', 'roll'], { DATA_DIR: dataDir });

    const server = await startServer({ DATA_DIR: dataDir });
    try {
      expect(server.output()).not.toContain('Super token created');
      expect((await rpcOver(server.port, 'js-result_query', queryAll(rolled.lastLine))).error.code).toBe(102);
      expect((await rpcOver(server.port, 'js-result_query', queryAll(rolledAgain.lastLine))).result).toEqual([]);
      expect((await rpcOver(server.port, 'js-result_query', queryAll(created.lastLine))).result).toEqual([]);
      expect((await rpcOver(server.port, 'js-result_query', queryAll('ops|pw'))).result).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('refuses bad input with a clear message and writes nothing', async () => {
    const badJson = await runCli(['token', 'create', '--limits', '[{'], { DATA_DIR: dataDir });
    expect(badJson.code).not.toBe(0);
    expect(badJson.stderr).toContain("option '--limits <json>' argument '[{' is invalid");
    const badLimit = await runCli(['token', 'create', '--limits', '[{"scopes":[{"js_worker":1}],"permissions":[]}]'], { DATA_DIR: dataDir });
    expect(badLimit.code).toBe(1);
    expect(badLimit.stderr).toContain('token_limit: [0].scopes[0].js_worker: expected a worker name or a pattern ending in *, got 1');
    const badWindow = await runCli(['token', 'create', '--limits', '[]', '--from', '5', '--to', '1'], { DATA_DIR: dataDir });
    expect(badWindow.stderr).toContain('timestamp_from (5) is after timestamp_to (1)');
    const halfAccount = await runCli(['token', 'create', '--limits', '[]', '--username', 'x'], { DATA_DIR: dataDir });
    expect(halfAccount.stderr).toContain('username and password go together');
    for (const result of [badJson, badLimit, badWindow, halfAccount]) expect(result.stdout).not.toMatch(TOKEN_LINE);
  });

  it('says plainly that the embedded database is in use while the server holds it, and changes nothing', async () => {
    const initial = await runCli(['super-token', 'roll'], { DATA_DIR: dataDir });
    const server = await startServer({ DATA_DIR: dataDir });
    try {
      const refused = await runCli(['super-token', 'roll'], { DATA_DIR: dataDir });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('is in use by another process (is the server running?)');
      expect(refused.stdout).not.toMatch(TOKEN_LINE);
      expect((await rpcOver(server.port, 'js-result_query', queryAll(initial.lastLine))).result).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

describe('CLI beside a running server (postgres)', () => {
  it('makes new, changed and rolled tokens take effect within 2 seconds', async () => {
    if (!(await postgresReachable())) {
      console.warn(`skipped: no PostgreSQL server at ${LOCAL_POSTGRES_URL}`);
      return;
    }
    const database = await createPostgresDatabase(LOCAL_POSTGRES_URL);
    const env = { DATABASE_URL: (database.target as { url: string }).url };
    const server = await startServer(env);
    try {
      const superToken = server.output().match(/^[A-Za-z0-9]{16}:[A-Za-z0-9]{32}$/m)![0];
      expect((await rpcOver(server.port, 'js-result_query', queryAll(superToken))).result).toEqual([]);

      // A key the server has never seen is looked up, not refused from a cache.
      const created = await runCli(['token', 'create', '--limits', READ_ALL], env);
      expect((await rpcOver(server.port, 'js-result_query', queryAll(created.lastLine))).result).toEqual([]);

      const rolled = await runCli(['super-token', 'roll'], env);
      const rolledAt = Date.now();
      expect((await rpcOver(server.port, 'js-result_query', queryAll(rolled.lastLine))).result).toEqual([]);
      let oldRefusedAfter = Infinity;
      while (Date.now() - rolledAt < 4_000) {
        if ((await rpcOver(server.port, 'js-result_query', queryAll(superToken))).error?.code === 102) {
          oldRefusedAfter = Date.now() - rolledAt;
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(oldRefusedAfter).toBeLessThanOrEqual(2_000);
    } finally {
      await server.stop();
      await database.drop();
    }
  });
});
