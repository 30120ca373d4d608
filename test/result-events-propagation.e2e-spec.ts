import { Client } from 'pg';
import { b64 } from './support/js-worker.helpers';
import { rpcOver, type ServerProcess, startServer } from './support/processes';
import { createPostgresDatabase, LOCAL_POSTGRES_URL, postgresReachable, type TestDatabase } from './support/test-database';
import { closeAllClients, WsRpcClient } from './support/ws-client';

const CREDENTIAL = /^[A-Za-z0-9]{16}:[A-Za-z0-9]{32}$/m;
const WAKE_BOUND_MS = 100;
const BUSY = 'export default { onCall() { const end = Date.now() + 200; while (Date.now() < end) {} return "done" } }';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Two real server processes on one PostgreSQL database: a waiter and a
 * subscriber on instance B are woken by a run finished through instance A,
 * or by an UPDATE from outside either.
 */
describe('js-result_wait and subscriptions across instances (postgres, two processes)', () => {
  let database: TestDatabase;
  let a: ServerProcess;
  let b: ServerProcess;
  let sql: Client;
  let superToken: string;
  let available = true;
  const latencies: number[] = [];

  beforeAll(async () => {
    available = await postgresReachable();
    if (!available) return;
    database = await createPostgresDatabase(LOCAL_POSTGRES_URL);
    const env = { DATABASE_URL: (database.target as { url: string }).url };
    a = await startServer(env);
    superToken = a.output().match(CREDENTIAL)![0];
    b = await startServer(env);
    sql = new Client({ connectionString: env.DATABASE_URL });
    await sql.connect();
    expect((await rpcOver(a.port, 'js-worker_create', { token: superToken, name: 'busy', js_script_base64: b64(BUSY) })).error).toBeUndefined();
  }, 120_000);

  afterAll(async () => {
    if (!available) return;
    if (latencies.length > 0) console.log(`cross-instance latency, ms: ${latencies.map((l) => l.toFixed(1)).join(', ')}`);
    await closeAllClients();
    await sql?.end();
    await Promise.all([a?.stop(), b?.stop()]);
    await database.drop();
  });

  const onPostgres = (name: string, test: () => Promise<void>) =>
    it(name, async () => {
      if (!available) return console.warn(`skipped: no PostgreSQL server at ${LOCAL_POSTGRES_URL}`);
      await test();
    });

  async function runningRow(worker: string): Promise<number> {
    const { rows } = await sql.query(
      `INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time) VALUES (1, $1, 'call', 1) RETURNING id`,
      [worker],
    );
    return Number(rows[0].id);
  }

  onPostgres(`a waiter on B wakes within ${WAKE_BOUND_MS} ms of a run finished through A`, async () => {
    const run = await rpcOver(a.port, 'js-worker_run', { token: superToken, js_script_name: 'busy' });
    const id = run.result.id;
    const reply = await rpcOver(b.port, 'js-result_wait', { token: superToken, id, timeout_ms: 10_000 });
    const repliedAt = Date.now();
    expect(reply.result).toMatchObject({ id, result: 'done', finish_time: expect.any(Number) });
    const latency = repliedAt - reply.result.finish_time;
    latencies.push(latency);
    expect(latency).toBeLessThan(WAKE_BOUND_MS);
  });

  onPostgres(`a waiter on B wakes within ${WAKE_BOUND_MS} ms of an UPDATE from neither instance`, async () => {
    const id = await runningRow('ext');
    const reply = rpcOver(b.port, 'js-result_wait', { token: superToken, id, timeout_ms: 10_000 });
    await sleep(300);
    const finishing = performance.now();
    await sql.query(`UPDATE js_result SET finish_time = 2, result = '"ext"' WHERE id = $1`, [id]);
    const body = await reply;
    const latency = performance.now() - finishing;
    latencies.push(latency);
    expect(body.result).toMatchObject({ id, result: 'ext' });
    expect(latency).toBeLessThan(WAKE_BOUND_MS);
  });

  onPostgres('subscribers on both instances get each record finished anywhere exactly once', async () => {
    const onB = await WsRpcClient.connect(`ws://127.0.0.1:${b.port}/`);
    const onA = await WsRpcClient.connect(`ws://127.0.0.1:${a.port}/nodeget/rpc`);
    const subscribeParams = { jsonrpc: '2.0', id: 1, method: 'js-result_subscribe', params: { token: superToken, query: { condition: [{ js_worker_name: 'busy' }] } } };
    const subB = (await onB.call(subscribeParams)).result;
    const subA = (await onA.call(subscribeParams)).result;
    expect(typeof subB).toBe('string');

    const run = await rpcOver(a.port, 'js-worker_run', { token: superToken, js_script_name: 'busy' });
    const fromB = await onB.next();
    const receivedAt = Date.now();
    expect(fromB).toMatchObject({ method: 'js-result_subscription', params: { subscription: subB, result: { id: run.result.id, result: 'done' } } });
    latencies.push(receivedAt - fromB.params.result.finish_time);
    expect(receivedAt - fromB.params.result.finish_time).toBeLessThan(WAKE_BOUND_MS);
    expect(await onA.next()).toMatchObject({ params: { subscription: subA, result: { id: run.result.id } } });

    const external = await runningRow('busy');
    await sql.query(`UPDATE js_result SET finish_time = 3, error_message = 'x' WHERE id = $1`, [external]);
    expect((await onB.next()).params.result).toMatchObject({ id: external, error_message: 'x' });
    expect((await onA.next()).params.result).toMatchObject({ id: external });
    await onB.expectSilence(300);
    await onA.expectSilence(0);
  });

  onPostgres("a finish announced while B's listener was down still wakes B's waiter once it is back", async () => {
    const id = await runningRow('outage');
    const reply = rpcOver(b.port, 'js-result_wait', { token: superToken, id, timeout_ms: 20_000 });
    await sleep(300);
    const started = performance.now();
    // Every listener connection is dropped; the finish lands before they are back (first retry after 100 ms).
    const { rows } = await sql.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'js-result-service result listener' AND datname = current_database()`,
    );
    expect(rows.length).toBe(2);
    await sql.query(`UPDATE js_result SET finish_time = 4, result = '"late"' WHERE id = $1`, [id]);
    const body = await reply;
    expect(body.result).toMatchObject({ id, result: 'late' });
    // Woken by the re-read on reconnect, long before the timeout.
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(b.output()).toContain('jsr_result_finished notifications lost');
  });
});
