import { percentile } from '../bench/load';
import { withClient } from '../bench/database';
import { sampleRss } from '../bench/processes';
import { CutWatcher } from './connections';
import { loopInWorker } from './load.worker';
import { fmtMs } from './outage';
import type { Reply } from './rpc-client';
import { startClock } from './rpc-client';
import { callCounts, check, type ChaosScenario, delay, MiB, neverFailsCheck, peakRssCheck, type ScenarioResult } from './scenario';
import { subscriber, type Subscriber } from './subscribers';
import { mergeTallies, round, tally } from './tally';

/** The worker whose 1,000 rows are inserted at once (removed again afterwards). */
const FAN_OUT_WORKER = 'chaos_fanout';
const READERS = 5;
const SUBSCRIPTIONS = 100;
const ROWS = 1_000;
/** Bytes of each row's result: a JSON string of this many characters. */
const ROW_CHARS = 1_000;
const NON_READERS = 60;
/** Other callers: S1 on a thread of its own, so that counting 500,000 notifications here does not time them. */
const S1_CLIENTS = 8;
const BEFORE_MS = 3_000;
const READERS_WINDOW_MS = 40_000;
/**
 * Non-readers are closed (1013) as the bound is reached, and cut once they
 * have taken nothing for the close's 30 s timeout: they are watched that long and more.
 */
const NON_READERS_WINDOW_MS = 75_000;
const P99_LIMIT_MS = 250;

const INSERT = `INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time, finish_time, result)
  SELECT 9100, $1, 'call', 1700000000000 + s, 1700000000000 + s + 5, to_jsonb(repeat('x', $2::int))
  FROM generate_series(1, $3::int) AS s`;

async function insertRows(url: string): Promise<void> {
  await withClient(url, (client) => client.query(INSERT, [FAN_OUT_WORKER, ROW_CHARS, ROWS]), 'jsr-chaos-fanout');
}

async function removeRows(url: string): Promise<void> {
  await withClient(url, (client) => client.query('DELETE FROM js_result WHERE js_worker_name = $1', [FAN_OUT_WORKER]), 'jsr-chaos-fanout');
}

function latencyOf(replies: Reply[], from: number, to = Infinity): { count: number; p50Ms: number; p99Ms: number } {
  const ms = Float64Array.from(replies.filter((r) => r.sentAt >= from && r.sentAt < to && r.outcomes.every((o) => o === 'ok')).map((r) => r.doneAt - r.sentAt)).sort();
  return { count: ms.length, p50Ms: round(percentile(ms, 50)), p99Ms: round(percentile(ms, 99)) };
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await delay(50);
  }
  return true;
}

/**
 * Subscription fan-out: 5 connections × 100 match-everything subscriptions,
 * then 1,000 finished 1 kB rows inserted in one statement (500,000
 * notifications), while S1 runs; then the same insert to 60 connections × 100
 * subscriptions that stop reading. S1's p99 must stay under 250 ms while the
 * readers are served, every reader gets every notification, and the server's
 * RSS stays under 1 GiB with the non-readers (they are closed or cut).
 */
export const fanOut: ChaosScenario = {
  id: 'fan-out',
  title: `S1 while ${READERS} × ${SUBSCRIPTIONS} match-all subscriptions get ${ROWS} rows inserted at once; then ${NON_READERS} non-reading connections`,
  async run(context): Promise<ScenarioResult> {
    const started = Date.now();
    const { data } = context;
    const server = await context.startServer();
    const port = Number(new URL(server.url).port);
    const rss = sampleRss(server.pid);
    const clients: Subscriber[] = [];
    const clock = startClock();
    const clockOrigin = performance.timeOrigin + performance.now() - clock();
    const s1 = (durationMs: number) =>
      loopInWorker({ url: `${server.url}/`, body: { fixed: data.s1Body }, concurrency: S1_CLIENTS, durationMs, timeoutMs: 15_000, clockOrigin });
    try {
      await removeRows(data.url);
      // Readers.
      for (let i = 0; i < READERS; i++) clients.push(await subscriber(port, data.tokens.super, SUBSCRIPTIONS, { read: true }));
      const expected = READERS * SUBSCRIPTIONS * ROWS;
      const delivered = () => clients.reduce((sum, c) => sum + c.notifications(), 0);
      const readersLoad = s1(READERS_WINDOW_MS);
      await delay(BEFORE_MS);
      const insertAt = clock();
      await insertRows(data.url);
      const allDelivered = await until(() => delivered() >= expected, READERS_WINDOW_MS - BEFORE_MS - 2_000);
      const deliveredAt = clock();
      const readersS1 = await readersLoad;
      const readersPeak = rss.stop().peakBytes;
      const got = delivered();
      const closedReaders = clients.filter((c) => c.closed !== undefined).length;
      for (const c of clients.splice(0)) c.stop();
      const before = latencyOf(readersS1, 0, insertAt);
      const during = latencyOf(readersS1, insertAt, deliveredAt);

      // Non-readers.
      await removeRows(data.url);
      const rss2 = sampleRss(server.pid);
      const watcher = new CutWatcher(port, clock);
      for (let i = 0; i < NON_READERS; i++) {
        const client = await subscriber(port, data.tokens.super, SUBSCRIPTIONS, { read: false });
        clients.push(client);
        watcher.add('non-reader', client.socket.localPort!);
      }
      watcher.start();
      const nonReadersLoad = s1(NON_READERS_WINDOW_MS);
      await delay(BEFORE_MS);
      const secondInsertAt = clock();
      await insertRows(data.url);
      await until(() => watcher.allCut(), NON_READERS_WINDOW_MS - BEFORE_MS - 2_000);
      watcher.stop();
      const nonReadersS1 = await nonReadersLoad;
      const nonReadersPeak = rss2.stop().peakBytes;
      const cut = watcher.watched.filter((w) => w.cutAt !== undefined);
      const lastCutMs = cut.length > 0 ? Math.max(...cut.map((w) => w.cutAt! - secondInsertAt)) : undefined;
      const underNonReaders = latencyOf(nonReadersS1, secondInsertAt);
      const peak = Math.max(readersPeak, nonReadersPeak);

      const readersCounts = tally(readersS1);
      const nonReadersCounts = tally(nonReadersS1);
      return {
        id: this.id,
        title: this.title,
        ...callCounts(mergeTallies(readersCounts, nonReadersCounts)),
        peakRssBytes: peak,
        recovery: `${got}/${expected} notifications in ${fmtMs(deliveredAt - insertAt)}; S1 p99 ${before.p99Ms} → ${during.p99Ms} ms; non-readers cut ${cut.length}/${NON_READERS}${lastCutMs === undefined ? '' : ` (last ${fmtMs(lastCutMs)})`}`,
        checks: [
          neverFailsCheck('S1', mergeTallies(readersCounts, nonReadersCounts)),
          check(`S1 p99 under ${P99_LIMIT_MS} ms while 500,000 notifications go out`, during.p99Ms < P99_LIMIT_MS, `${during.p99Ms} ms (p50 ${during.p50Ms} ms, ${during.count} calls; before: p99 ${before.p99Ms} ms)`),
          check('every reader gets every notification, none dropped', allDelivered && closedReaders === 0, `${got} of ${expected}, ${closedReaders} readers closed`),
          check(`peak RSS under 1 GiB with ${NON_READERS} non-reading connections`, nonReadersPeak < 1024 * MiB, `${Math.round(nonReadersPeak / MiB)} MiB`),
          peakRssCheck(peak),
          check('every non-reading connection is closed or cut', cut.length === NON_READERS, `${cut.length}/${NON_READERS}`),
        ],
        details: {
          s1Before: before,
          s1DuringFanOut: during,
          s1WithNonReaders: underNonReaders,
          deliveryMs: round(deliveredAt - insertAt, 0),
          notifications: { got, expected },
          readersPeakRssMiB: Math.round(readersPeak / MiB),
          nonReadersPeakRssMiB: Math.round(nonReadersPeak / MiB),
          nonReadersCut: cut.length,
          lastCutMs: lastCutMs === undefined ? undefined : round(lastCutMs, 0),
        },
        seconds: round((Date.now() - started) / 1000, 1),
      };
    } finally {
      for (const c of clients) c.stop();
      rss.stop();
      await server.stop();
      await removeRows(data.url).catch(() => undefined);
    }
  },
};
