import { sampleRss } from '../bench/processes';
import { HEAVY_WORKER } from './dataset';
import { loopInWorker } from './load.worker';
import { batchBody, loop, startClock } from './rpc-client';
import { callCounts, check, type ChaosScenario, delay, neverFailsCheck, peakRssCheck, type ScenarioResult, isRunning } from './scenario';
import { latency, mergeTallies, round, tally } from './tally';

const CLIENTS = 16;
const BASELINE_MS = 8_000;
const CHAOS_MS = 12_000;
/** The hostile batch: 1,000 reads of 10,000 rows each, over a worker that has 20,000. */
const HEAVY_CALLS = 1_000;
/** Unknown accounts, each a full password check (scrypt) unless a credential budget refuses it first. */
const LOGIN_BATCH = 50;
const LOGIN_CLIENTS = 4;
/** S1's p50 and p99 with the attack, over without: "within their normal range". */
const P50_RATIO_LIMIT = 2;
const P99_RATIO_LIMIT = 3;

/**
 * 16-way S1 (`key:secret` callers) measured alone, then again while one
 * client keeps sending the hostile batch and four keep sending batches of
 * logins for unknown accounts. S1 must keep its latency and never fail, and
 * the server's RSS must stay far from 1 GiB.
 */
export const heavyAndLogins: ChaosScenario = {
  id: 'heavy+logins',
  title: '16-way S1 while a 1,000 × limit 10000 batch and a login flood arrive',
  async run(context): Promise<ScenarioResult> {
    const started = Date.now();
    const { tokens, s1Body } = context.data;
    const server = await context.startServer();
    const rss = sampleRss(server.pid);
    try {
      const url = `${server.url}/`;
      const clock = startClock();
      const baseline = await loop({ url, body: s1Body, concurrency: CLIENTS, durationMs: BASELINE_MS, timeoutMs: 15_000, clock });
      const baseRss = rss.stop().peakBytes;
      const chaosRss = sampleRss(server.pid);

      const heavyBody = batchBody(HEAVY_CALLS, () => ({
        method: 'js-result_query',
        params: { token: tokens.super, query: { condition: [{ js_worker_name: HEAVY_WORKER }, { limit: 10_000 }] } },
      }));
      const s1 = loop({ url, body: s1Body, concurrency: CLIENTS, durationMs: CHAOS_MS, timeoutMs: 15_000, clock });
      await delay(1_000);
      // The attackers run on threads of their own, so that reading their large replies does not delay S1's client.
      // Each stops sending when the window closes; a request already sent may run past it, up to its timeout.
      const clockOrigin = performance.timeOrigin + performance.now() - clock();
      const attack = { url, concurrency: 1, durationMs: CHAOS_MS - 2_000, clockOrigin };
      const heavy = loopInWorker({ ...attack, body: { fixed: heavyBody }, calls: HEAVY_CALLS, timeoutMs: 60_000 });
      // A fresh account name every call, as a credential-stuffing list would send.
      const loginFlood = { calls: LOGIN_BATCH, prefix: 'chaos_user_', worker: 'w_0042' };
      const logins = loopInWorker({ ...attack, concurrency: LOGIN_CLIENTS, body: { loginFlood }, calls: LOGIN_BATCH, timeoutMs: 30_000 });
      const [s1Replies, heavyReplies, loginReplies] = await Promise.all([s1, heavy, logins]);
      const peak = Math.max(baseRss, chaosRss.stop().peakBytes);
      const alive = isRunning(server.pid);

      const base = latency(baseline);
      const under = latency(s1Replies);
      const s1Counts = tally(s1Replies);
      const heavyCounts = tally(heavyReplies);
      const loginCounts = tally(loginReplies);
      const all = mergeTallies(tally(baseline), s1Counts, heavyCounts, loginCounts);
      const p50Ratio = round(under.p50Ms / base.p50Ms);
      const p99Ratio = round(under.p99Ms / base.p99Ms);
      const heavyBytes = heavyReplies.map((r) => r.bytes);
      return {
        id: this.id,
        title: this.title,
        ...callCounts(all),
        peakRssBytes: peak,
        recovery: `S1 p50 ×${p50Ratio}, p99 ×${p99Ratio} of its baseline`,
        checks: [
          neverFailsCheck('S1', s1Counts),
          check(`S1 p50 within ×${P50_RATIO_LIMIT} of its baseline`, p50Ratio <= P50_RATIO_LIMIT, `${base.p50Ms} → ${under.p50Ms} ms`),
          check(`S1 p99 within ×${P99_RATIO_LIMIT} of its baseline`, p99Ratio <= P99_RATIO_LIMIT, `${base.p99Ms} → ${under.p99Ms} ms`),
          peakRssCheck(peak),
          check('the hostile batch is answered (or refused), never hangs', heavyCounts.timedOut === 0 && heavyCounts.sent > 0, `${heavyReplies.length} batches: ${JSON.stringify(heavyCounts.errorsByCode)}, ${heavyCounts.ok} calls ok, ${heavyCounts.timedOut} timed out`),
          check('the server survives', alive, alive ? 'running' : 'gone'),
        ],
        details: {
          s1Baseline: base,
          s1UnderAttack: under,
          s1: s1Counts,
          heavyBatch: { ...heavyCounts, requests: heavyReplies.length, replyBytes: heavyBytes },
          logins: { ...loginCounts, requests: loginReplies.length },
        },
        seconds: round((Date.now() - started) / 1000, 1),
      };
    } finally {
      rss.stop();
      await server.stop();
    }
  },
};
