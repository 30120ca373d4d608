import { withClient } from '../bench/database';
import { sampleRss } from '../bench/processes';
import { loopInWorker } from './load.worker';
import { rpcBody, startClock } from './rpc-client';
import { callCounts, check, type ChaosScenario, delay, neverFailsCheck, peakRssCheck, type ScenarioResult, isRunning } from './scenario';
import { subscriber } from './subscribers';
import { round, tally } from './tally';

/** The worker the poisoned row belongs to (removed again afterwards). */
const DEEP_WORKER = 'chaos_deep';
/** Valid jsonb (PostgreSQL allows about 10,000 levels), and past what JSON.stringify can recurse through. */
const DEPTH = 6_000;
const S1_CLIENTS = 8;
const WINDOW_MS = 12_000;

/** The ids of the replies in a batch's reply text, and whether each is a result; undefined when it is not a JSON array. */
function repliesOf(text: string): { id: unknown; ok: boolean }[] | undefined {
  try {
    const parsed = JSON.parse(text) as { id: unknown; result?: unknown }[];
    return Array.isArray(parsed) ? parsed.map((r) => ({ id: r.id, ok: 'result' in r })) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A row nested 6,000 deep, written by SQL as any writer may, finishes while a
 * subscriber, a WebSocket waiter and an HTTP batch (a wait and a count) wait
 * for it, and S1 runs. Nothing may crash: the process keeps serving, the
 * subscriber gets its notification, every waiter its answer under its own id.
 */
export const deepRow: ChaosScenario = {
  id: 'deep-row',
  title: `a finished row nested ${DEPTH} deep reaches subscribers and waiters while S1 runs`,
  async run(context): Promise<ScenarioResult> {
    const started = Date.now();
    const { data } = context;
    const server = await context.startServer();
    const port = Number(new URL(server.url).port);
    const rss = sampleRss(server.pid);
    const clock = startClock();
    const clockOrigin = performance.timeOrigin + performance.now() - clock();
    const watcher = await subscriber(port, data.tokens.super, 1, { read: true });
    try {
      const s1 = loopInWorker({ url: `${server.url}/`, body: { fixed: data.s1Body }, concurrency: S1_CLIENTS, durationMs: WINDOW_MS, timeoutMs: 15_000, clockOrigin });
      const id = await withClient(data.url, async (client) => {
        const { rows } = await client.query(
          `INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time) VALUES (9200, $1, 'call', 1700000000000) RETURNING id`,
          [DEEP_WORKER],
        );
        return String(rows[0].id);
      });
      const waitParams = { token: data.tokens.super, id: Number(id), timeout_ms: 20_000 };
      watcher.ws.send(rpcBody('js-result_wait', waitParams, 'ws-wait'));
      const batch = fetch(`${server.url}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([
          { jsonrpc: '2.0', id: 'http-wait', method: 'js-result_wait', params: waitParams },
          { jsonrpc: '2.0', id: 'count', method: 'js-result_count', params: { token: data.tokens.super, query: { condition: [{ js_worker_name: DEEP_WORKER }] } } },
        ]),
        signal: AbortSignal.timeout(30_000),
      }).then((res) => res.text(), (err: unknown) => `failed: ${String(err)}`);
      await delay(2_000);
      await withClient(data.url, (client) =>
        client.query(`UPDATE js_result SET finish_time = 1700000000100, result = $2::jsonb WHERE id = $1`, [id, '['.repeat(DEPTH) + ']'.repeat(DEPTH)]),
      );
      const batchReplies = repliesOf(await batch);
      const notified = await (async () => {
        for (let i = 0; i < 100 && watcher.notifications() === 0; i++) await delay(50);
        return watcher.notifications();
      })();
      for (let i = 0; i < 100 && !watcher.replies.some((r) => r.includes('"id":"ws-wait"')); i++) await delay(50);
      const wsWait = watcher.replies.find((r) => r.includes('"id":"ws-wait"'));
      const s1Replies = await s1;
      const health = await fetch(`${server.url}/health`).then((r) => r.status, () => 0);
      const alive = isRunning(server.pid);
      const peak = rss.stop().peakBytes;
      const s1Counts = tally(s1Replies);
      const wsWaitOk = wsWait !== undefined && wsWait.startsWith(`{"jsonrpc":"2.0","id":"ws-wait","result":{"id":${id},`);
      const batchText = batchReplies === undefined ? 'no JSON array' : batchReplies.map((r) => `${String(r.id)}: ${r.ok ? 'result' : 'error'}`).join(', ');
      const batchOk = batchText === 'http-wait: result, count: result';
      return {
        id: this.id,
        title: this.title,
        ...callCounts(s1Counts),
        peakRssBytes: peak,
        recovery: `process ${alive ? 'alive' : 'DEAD'}, /health ${health}; notification ${notified > 0 ? 'sent' : 'missing'}; waiters: HTTP batch ${batchOk ? 'ok' : 'FAILED'}, WebSocket ${wsWaitOk ? 'ok' : 'missing'}`,
        checks: [
          check('the process survives and /health answers', alive && health === 200, `${alive ? 'running' : 'exited'}, /health ${health}`),
          check('the subscriber gets the row', notified === 1, `${notified} notification(s)`),
          check('the WebSocket waiter gets the row under its own id', wsWaitOk, wsWait === undefined ? 'no reply' : wsWait.slice(0, 80)),
          check('both calls of the HTTP batch (a wait and a count) are answered under their own ids', batchOk, batchText),
          neverFailsCheck('S1', s1Counts),
          peakRssCheck(peak),
        ],
        details: { s1: { calls: s1Counts.sent, ok: s1Counts.ok }, batch: batchText, notifications: notified },
        seconds: round((Date.now() - started) / 1000, 1),
      };
    } finally {
      watcher.stop();
      rss.stop();
      await server.stop();
      await withClient(data.url, (client) => client.query('DELETE FROM js_result WHERE js_worker_name = $1', [DEEP_WORKER])).catch(() => undefined);
    }
  },
};
