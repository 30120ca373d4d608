import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ProcessBackend, processBackend } from './support/process-backend';
import { rpcOver, runCli, startServer } from './support/processes';
import { backendName, serverUrl } from './support/test-database';

const WORKER = 'backup_demo';
const SCRIPT = Buffer.from('export default { onCall(params) { return { n: params.n }; } }').toString('base64');
const byWorker = { condition: [{ js_worker_name: WORKER }] };

async function finishedRuns(port: number, token: string, count: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const rows = (await rpcOver(port, 'js-result_query', { token, query: byWorker })).result as { finish_time: number | null }[];
    if (rows.length === count && rows.every((row) => row.finish_time !== null)) return;
    if (Date.now() > deadline) throw new Error(`runs not finished: ${JSON.stringify(rows)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Each test starts several servers and CLI processes; an embedded database takes seconds to open in each. */
jest.setTimeout(240_000);

/** `js-result-service backup` / `restore` of the embedded database, as real processes, checked through real servers. */
describe(`backup and restore (${backendName})`, () => {
  let backend: ProcessBackend;
  let dir: string;

  beforeEach(async () => {
    backend = await processBackend();
    dir = mkdtempSync(join(tmpdir(), 'jsr-backup-'));
  });

  afterEach(async () => {
    await backend.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  if (serverUrl) {
    it('is for the embedded database: on PostgreSQL it refuses, pointing at pg_dump', async () => {
      const file = join(dir, 'backup.tar.gz');
      const backup = await runCli(['backup', '--to', file], backend.env);
      expect(backup.code).toBe(1);
      expect(backup.stderr).toContain('on a PostgreSQL server (DATABASE_URL) use pg_dump / pg_restore');
      expect(existsSync(file)).toBe(false);
      writeFileSync(file, 'x');
      expect((await runCli(['restore', '--from', file], backend.env)).stderr).toContain('use pg_dump / pg_restore');
    });
    return;
  }

  it('restores a backup into a new directory with its records, tokens and page-cursor key; refused while a server runs', async () => {
    const original = backend.env.DATA_DIR;
    const copy = join(dir, 'restored');
    const file = join(dir, 'backup.tar.gz');
    const superTokenFile = join(dir, 'super-token');

    const server = await startServer({ DATA_DIR: original, SUPER_TOKEN_FILE: superTokenFile });
    const token = readFileSync(superTokenFile, 'utf8').trim();
    let before: unknown[];
    let firstPage: { items: { id: number }[]; next_cursor: string };
    try {
      expect((await rpcOver(server.port, 'js-worker_create', { token, name: WORKER, js_script_base64: SCRIPT })).result).toBeDefined();
      for (const n of [1, 2, 3]) expect((await rpcOver(server.port, 'js-worker_run', { token, js_script_name: WORKER, params: { n } })).result).toBeDefined();
      await finishedRuns(server.port, token, 3);
      before = (await rpcOver(server.port, 'js-result_query', { token, query: byWorker })).result;
      firstPage = (await rpcOver(server.port, 'js-result_page', { token, query: byWorker, page_size: 2 })).result;
      expect(firstPage.next_cursor).toEqual(expect.any(String));

      const refused = await runCli(['backup', '--to', file], { DATA_DIR: original });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('is in use by another process (is the server running?): stop it before a backup');
      expect(existsSync(file)).toBe(false);
    } finally {
      await server.stop();
    }

    const backup = await runCli(['backup', '--to', file], { DATA_DIR: original });
    expect(backup.code).toBe(0);
    expect(JSON.parse(backup.lastLine)).toEqual({ file, bytes: statSync(file).size });
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const restored = await runCli(['restore', '--from', file], { DATA_DIR: copy });
    expect(restored.code).toBe(0);
    expect(JSON.parse(restored.lastLine)).toEqual({ dataDir: copy, tokens: 1, results: 3 });
    const again = await runCli(['restore', '--from', file], { DATA_DIR: copy });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${copy} is not empty: restore only into a new or empty directory`);

    // No SUPER_TOKEN_FILE now: the super token came with the backup, so none is created or printed.
    const restoredServer = await startServer({ DATA_DIR: copy });
    try {
      expect(restoredServer.output()).not.toContain('Super token created');
      expect((await rpcOver(restoredServer.port, 'js-result_query', { token, query: byWorker })).result).toEqual(before);
      // A cursor signed before the backup reads on: the signing key (server_secret) came with it.
      const secondPage = (await rpcOver(restoredServer.port, 'js-result_page', { token, query: byWorker, page_size: 2, cursor: firstPage.next_cursor })).result;
      expect(secondPage.next_cursor).toBeNull();
      expect([...firstPage.items, ...secondPage.items].map((row: { id: number }) => row.id)).toEqual((before as { id: number }[]).map((row) => row.id));
    } finally {
      await restoredServer.stop();
    }
  });

  it('refuses what is not a backup, a damaged one, and an in-memory database, leaving the target empty', async () => {
    const target = join(dir, 'target');
    const notGzip = join(dir, 'notes.txt');
    writeFileSync(notGzip, 'not a backup');
    const truncated = join(dir, 'truncated.tar.gz');
    // A gzip header and nothing after it: what an interrupted copy leaves.
    writeFileSync(truncated, Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x01]));

    for (const [from, why] of [
      [notGzip, '(not gzip)'],
      [truncated, '(damaged or truncated)'],
      [join(dir, 'absent.tar.gz'), 'cannot read'],
    ]) {
      const refused = await runCli(['restore', '--from', from], { DATA_DIR: target });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(why);
    }
    expect(existsSync(target) ? readdirSync(target) : []).toEqual([]);

    const inMemory = await runCli(['backup', '--to', join(dir, 'x.tar.gz')], { DATA_DIR: 'memory://' });
    expect(inMemory.stderr).toContain('DATA_DIR is memory://: there is nothing on disk to backup');
    const empty = await runCli(['backup', '--to', join(dir, 'x.tar.gz')], { DATA_DIR: join(dir, 'nothing') });
    expect(empty.stderr).toContain('holds no embedded database (DATA_DIR)');
  });
});
