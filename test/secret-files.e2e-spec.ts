import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ProcessBackend, processBackend } from './support/process-backend';
import { rpcOver, runCli, startServer } from './support/processes';
import { backendName, createPostgresDatabase, LOCAL_POSTGRES_URL, postgresReachable } from './support/test-database';

const TOKEN_LINE = /^[A-Za-z0-9]{16}:[A-Za-z0-9]{32}$/;
const READ_ALL = JSON.stringify([{ scopes: ['global'], permissions: [{ js_result: { read: '*' } }] }]);
const queryAll = (token: string) => ({ token, query: { condition: [{ limit: 1 }] } });
const FIRST = 'FirstSuperKey001:first-secret-from-the-operator';
const SECOND = 'SecondSuperKey02:second-secret-from-the-operator';

/** Each test starts several servers and CLI processes; an embedded database takes seconds to open in each. */
jest.setTimeout(240_000);

/** SUPER_TOKEN_FILE, `<NAME>_FILE` secrets and passwords kept off the command line, with real processes. */
describe(`secrets from files, and passwords never in argv (${backendName})`, () => {
  let backend: ProcessBackend;
  let dir: string;

  beforeEach(async () => {
    backend = await processBackend();
    dir = mkdtempSync(join(tmpdir(), 'jsr-secrets-'));
  });

  afterEach(async () => {
    await backend.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a missing SUPER_TOKEN_FILE (mode 0600) with a new super token it never prints, and keeps it across restarts', async () => {
    const file = join(dir, 'super-token');
    const env = { ...backend.env, SUPER_TOKEN_FILE: file };
    const first = await startServer(env);
    let credential: string;
    try {
      credential = readFileSync(file, 'utf8').replace(/\n$/, '');
      expect(credential).toMatch(TOKEN_LINE);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(first.output()).not.toContain(credential.split(':')[1]);
      expect(first.output()).not.toContain('Super token created. Keep it safe');
      expect((await rpcOver(first.port, 'js-result_query', queryAll(credential))).result).toEqual([]);
    } finally {
      await first.stop();
    }

    const second = await startServer(env);
    try {
      expect(readFileSync(file, 'utf8')).toBe(`${credential}\n`);
      expect((await rpcOver(second.port, 'js-result_query', queryAll(credential))).result).toEqual([]);
    } finally {
      await second.stop();
    }
  });

  it('makes the key:secret of an existing SUPER_TOKEN_FILE the super token, and a changed file replaces it', async () => {
    const file = join(dir, 'super-token');
    const env = { ...backend.env, SUPER_TOKEN_FILE: file };
    writeFileSync(file, `${FIRST}\n`);
    const first = await startServer(env);
    try {
      expect((await rpcOver(first.port, 'js-result_query', queryAll(FIRST))).result).toEqual([]);
    } finally {
      await first.stop();
    }

    writeFileSync(file, SECOND);
    const second = await startServer(env);
    try {
      expect((await rpcOver(second.port, 'js-result_query', queryAll(SECOND))).result).toEqual([]);
      expect((await rpcOver(second.port, 'js-result_query', queryAll(FIRST))).error).toBeDefined();
    } finally {
      await second.stop();
    }
    expect(readFileSync(file, 'utf8')).toBe(SECOND);
  });

  describe('a secret file that cannot be used stops the start, naming the variable and never the contents', () => {
    const write = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };

    it.each([
      ['an empty SUPER_TOKEN_FILE', () => ({ ...backend.env, SUPER_TOKEN_FILE: write('super', '\n') }), /SUPER_TOKEN_FILE: \S+ is empty/],
      ['an unreadable SUPER_TOKEN_FILE (a directory)', () => ({ ...backend.env, SUPER_TOKEN_FILE: dir }), /SUPER_TOKEN_FILE: \S+ cannot be read \(EISDIR\)/],
      [
        'a SUPER_TOKEN_FILE that holds no key:secret',
        () => ({ ...backend.env, SUPER_TOKEN_FILE: write('super', 'hunter2-is-my-secret') }),
        /SUPER_TOKEN_FILE: \S+ must hold key:secret/,
      ],
      [
        'a SUPER_TOKEN_FILE that cannot be created',
        () => ({ ...backend.env, SUPER_TOKEN_FILE: join(dir, 'absent', 'super') }),
        /SUPER_TOKEN_FILE: \S+ does not exist and cannot be created \(ENOENT\)/,
      ],
      ['an empty DATABASE_URL_FILE', () => ({ DATABASE_URL_FILE: write('url', '') }), /DATABASE_URL_FILE: \S+ is empty/],
      ['a missing DATABASE_URL_FILE', () => ({ DATABASE_URL_FILE: join(dir, 'absent') }), /DATABASE_URL_FILE: \S+ cannot be read \(ENOENT\)/],
      [
        'both DATABASE_URL and DATABASE_URL_FILE',
        () => ({ DATABASE_URL: 'postgres://u:hunter2@127.0.0.1:1/db', DATABASE_URL_FILE: write('url', 'postgres://u:hunter2@127.0.0.1:1/db') }),
        /DATABASE_URL and DATABASE_URL_FILE are both set/,
      ],
    ])('%s', async (_, extra, message) => {
      // The DATABASE_URL_FILE cases stand instead of the backend's own setting.
      const failed = await runCli(['serve'], extra());
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(message);
      expect(failed.stderr).not.toContain('hunter2');
    });
  });

  it('reads DATABASE_URL from DATABASE_URL_FILE', async () => {
    if (!(await postgresReachable())) return console.warn(`skipped: no PostgreSQL server at ${LOCAL_POSTGRES_URL}`);
    const database = await createPostgresDatabase(LOCAL_POSTGRES_URL);
    try {
      const urlFile = join(dir, 'database-url');
      writeFileSync(urlFile, `${(database.target as { url: string }).url}\n`, { mode: 0o600 });
      writeFileSync(join(dir, 'super'), FIRST);
      const server = await startServer({ DATABASE_URL_FILE: urlFile, SUPER_TOKEN_FILE: join(dir, 'super') });
      try {
        expect(server.output()).not.toContain('embedded database');
        expect((await rpcOver(server.port, 'js-result_query', queryAll(FIRST))).result).toEqual([]);
      } finally {
        await server.stop();
      }
    } finally {
      await database.drop();
    }
  });

  it('token create refuses --password, naming --password-stdin, and takes the password from standard input', async () => {
    for (const args of [['--password', 'hunter2'], ['--password=hunter2']]) {
      const refused = await runCli(['token', 'create', '--limits', READ_ALL, '--username', 'ops', ...args], backend.env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('--password is no longer accepted');
      expect(refused.stderr).toContain('--password-stdin');
      expect(refused.stderr).not.toContain('hunter2');
      expect(refused.stdout).not.toMatch(TOKEN_LINE);
    }
    const created = await runCli(['token', 'create', '--limits', READ_ALL, '--username', 'ops', '--password-stdin'], backend.env, 'correct horse\n');
    expect(created.code).toBe(0);
    expect(created.lastLine).toMatch(TOKEN_LINE);

    writeFileSync(join(dir, 'super'), FIRST);
    const server = await startServer({ ...backend.env, SUPER_TOKEN_FILE: join(dir, 'super') });
    try {
      expect((await rpcOver(server.port, 'js-result_query', queryAll('ops|correct horse'))).result).toEqual([]);
      expect((await rpcOver(server.port, 'js-result_query', queryAll('ops|hunter2'))).error).toBeDefined();
    } finally {
      await server.stop();
    }
  });
});
