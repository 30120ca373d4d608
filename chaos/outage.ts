import { sampleRss } from '../bench/processes';
import { loop, startClock } from './rpc-client';
import { callCounts, check, type ChaosContext, delay, peakRssCheck, type ScenarioResult } from './scenario';
import { firstSuccessAfter, fullThroughputAfter, round, successRate, tally, unexpectedCodes } from './tally';

export interface Outage {
  id: string;
  title: string;
  /** Makes the database fail; returns when it does. */
  begin(): Promise<void>;
  /** Makes it work again; returns when it does. */
  end(): Promise<void>;
}

export interface OutageTimings {
  /** Load before the outage: long enough to measure the normal rate. */
  warmMs: number;
  outageMs: number;
  /** Load after the database is back: the issue promises full service "within seconds". */
  afterMs: number;
}

export const CHAOS_TIMINGS: OutageTimings = { warmMs: 4_000, outageMs: 5_000, afterMs: 8_000 };
const CLIENTS = 16;
/** A reply slower than this is a hang: the service has the statement timeout (10 s) and the pool's own limits below it. */
const CLIENT_TIMEOUT_MS = 15_000;
const FIRST_SUCCESS_LIMIT_MS = 5_000;
const FULL_THROUGHPUT_LIMIT_MS = 10_000;

/**
 * 16-way S1 reads while the database fails for five seconds and comes back:
 * every call must be answered (a success or 103, nothing else, no hang), and
 * the service must reach its normal throughput again by itself.
 */
export async function outageUnderLoad(
  context: Pick<ChaosContext, 'data' | 'log' | 'startServer'>,
  outage: Outage,
  { warmMs, outageMs, afterMs }: OutageTimings = CHAOS_TIMINGS,
): Promise<ScenarioResult> {
  const started = Date.now();
  const server = await context.startServer();
  const rss = sampleRss(server.pid);
  const clock = startClock();
  try {
    const url = `${server.url}/`;
    const load = loop({ url, body: context.data.s1Body, concurrency: CLIENTS, durationMs: warmMs + outageMs + afterMs, timeoutMs: CLIENT_TIMEOUT_MS, clock });
    await delay(warmMs);
    const downAt = clock();
    await outage.begin();
    const downReadyAt = clock();
    context.log(`  ${outage.id}: database failing after ${round(downReadyAt - downAt, 0)} ms`);
    await delay(outageMs);
    await outage.end();
    const upAt = clock();
    context.log(`  ${outage.id}: database back at +${round(upAt - downAt, 0)} ms`);
    const replies = await load;
    const peak = rss.stop().peakBytes;

    const counts = tally(replies);
    const baseline = successRate(replies, 1_000, downAt);
    const during = tally(replies.filter((r) => r.doneAt >= downReadyAt && r.doneAt < upAt));
    const firstOk = firstSuccessAfter(replies, upAt);
    const full = fullThroughputAfter(replies, upAt, baseline);
    const others = unexpectedCodes(counts, ['103']);
    const recovery = `first success ${fmtMs(firstOk)}, full throughput ${fmtMs(full)} after the database was back`;
    return {
      id: outage.id,
      title: outage.title,
      ...callCounts(counts),
      peakRssBytes: peak,
      recovery,
      checks: [
        check('the outage was felt (103 replies while the database failed)', (during.errorsByCode['103'] ?? 0) > 0, `${during.errorsByCode['103'] ?? 0} × 103, ${during.ok} successes while down`),
        check('only 103 as an error', Object.keys(others).length === 0, Object.keys(others).length ? `also ${JSON.stringify(others)}` : 'none other'),
        check('no hang (every call answered within 15 s)', counts.timedOut === 0, `${counts.timedOut} timed out`),
        check(`first success within ${FIRST_SUCCESS_LIMIT_MS / 1000} s`, firstOk !== undefined && firstOk <= FIRST_SUCCESS_LIMIT_MS, fmtMs(firstOk)),
        check(`full throughput within ${FULL_THROUGHPUT_LIMIT_MS / 1000} s`, full !== undefined && full <= FULL_THROUGHPUT_LIMIT_MS, `${fmtMs(full)} (80% of ${round(baseline, 0)} calls/s)`),
        peakRssCheck(peak),
      ],
      details: {
        baselineCallsPerSec: round(baseline, 0),
        outageMs: round(upAt - downAt, 0),
        whileDown: during,
        firstSuccessMs: firstOk === undefined ? null : round(firstOk, 0),
        fullThroughputMs: full === undefined ? null : round(full, 0),
      },
      seconds: round((Date.now() - started) / 1000, 1),
    };
  } finally {
    rss.stop();
    await server.stop();
  }
}

export function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return 'never';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
