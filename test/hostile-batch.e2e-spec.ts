import 'reflect-metadata';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseTarget } from '../src/config/app.config';
import { openDataSource } from '../src/database/data-source.factory';
import { type ServerProcess, startServer } from './support/processes';
import { backendName, createTestDatabase, serverUrl, type TestDatabase } from './support/test-database';

/**
 * The batch of issue 9 against `node dist/src/main.js` with its default
 * limits (needs `npm run -s build`): 1000 calls of 10,000 rows each over a
 * table of 20,000. It used to grow the process past 4 GB and end it; now
 * the calls past MAX_RESPONSE_BYTES are refused with 108, the server's
 * peak RSS stays well under 1 GB, and it goes on answering.
 */
const ROWS = 20_000;
const CALLS = 1000;
/** Well under 1 GB; the embedded database's WASM heap (PGlite runs in the server's process) is part of it. */
const PEAK_RSS_LIMIT_BYTES = 768 * 1024 * 1024;

/** The highest resident set size the process has had (VmHWM), in bytes. */
async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)![1]) * 1024;
}

async function post(port: number, body: unknown): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return res.json();
}

describe(`a hostile batch against the server process (${backendName})`, () => {
  let database: TestDatabase | undefined;
  let dataDir: string | undefined;
  let server: ServerProcess;
  let token: string;

  beforeAll(async () => {
    let target: DatabaseTarget;
    if (serverUrl) {
      database = await createTestDatabase();
      target = database.target;
    } else {
      // The embedded database belongs to the server once it runs: seeded on disk before it starts.
      dataDir = await mkdtemp(join(tmpdir(), 'jsr-hostile-'));
      target = { kind: 'embedded', dataDir };
    }
    const seeding = await openDataSource({ database: target, poolSize: 1, statementTimeoutMs: 60_000 });
    await seeding.query(
      `INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time, finish_time, result)
       SELECT 1, 'w' || (g % 10), 'call', g, g + 5, jsonb_build_object('n', g) FROM generate_series(1, ${ROWS}) g`,
    );
    await seeding.destroy();
    // The login throttle is not what this test is about: 1000 calls with one token must all reach the read.
    const logins = { LOGIN_MAX_QUEUED_HASHES: '100000', LOGIN_FAILURES_PER_USERNAME: '1000000', LOGIN_FAILURES_PER_ADDRESS: '1000000' };
    server = await startServer({ ...logins, ...(target.kind === 'postgres' ? { DATABASE_URL: target.url } : { DATA_DIR: target.dataDir }) });
    token = server.output().match(/^[A-Za-z0-9]{16}:[A-Za-z0-9]{32}$/m)![0];
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('survives 1000 reads of 10,000 rows in one request, refusing those past the budget, under 768 MiB peak RSS', async () => {
    const batch = Array.from({ length: CALLS }, (_, i) => ({
      jsonrpc: '2.0',
      method: 'js-result_query',
      params: { token, query: { condition: [{ limit: 10_000 }] } },
      id: i,
    }));
    const before = await peakRss(server.pid);
    const replies: any[] = await post(server.port, batch);
    expect(replies).toHaveLength(CALLS);
    const answered = replies.filter((r) => r.result !== undefined);
    const refused = replies.filter((r) => r.error !== undefined);
    expect(answered.length).toBeGreaterThan(0);
    for (const r of answered) expect(r.result).toHaveLength(10_000);
    for (const r of refused) expect(r.error).toEqual({ code: 108, message: expect.stringContaining('MAX_RESPONSE_BYTES'), data: expect.objectContaining({ limit: 'MAX_RESPONSE_BYTES' }) });
    expect(answered.length + refused.length).toBe(CALLS);

    const peak = await peakRss(server.pid);
    console.log(`hostile batch (${backendName}): ${answered.length} answered, ${refused.length} refused, peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB (${(before / 2 ** 20).toFixed(0)} MiB before)`);
    expect(peak).toBeLessThan(PEAK_RSS_LIMIT_BYTES);

    // And it goes on answering ordinary calls.
    const usual = await post(server.port, { jsonrpc: '2.0', method: 'js-result_query', params: { token, query: { condition: [{ js_worker_name: 'w3' }, { limit: 10 }] } }, id: 1 });
    expect(usual.result).toHaveLength(10);
  }, 60_000);
});
