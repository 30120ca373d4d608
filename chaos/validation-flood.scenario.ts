import { sampleRss } from '../bench/processes';
import { loopInWorker } from './load.worker';
import { batchBody, loop, post, rpcBody, startClock } from './rpc-client';
import { callCounts, check, type ChaosScenario, neverFailsCheck, peakRssCheck, type ScenarioResult, isRunning } from './scenario';
import { latency, mergeTallies, round, tally, unexpectedCodes } from './tally';

const CLIENTS = 16;
const BASELINE_MS = 5_000;
/** The target for everyone else while the flood is validated. */
const P99_LIMIT_MS = 100;
/** How long the 8-call batches keep coming; the 30-call batch is sent once, at the start. */
const SMALL_BATCHES_MS = 15_000;
const SMALL_BATCH = 8;
const LARGE_BATCH = 30;
/** Each hostile create holds a sandbox thread for its full second; 40 of them queue for about that long. */
const ATTACK_TIMEOUT_MS = 150_000;
const NAME_PREFIX = 'chaos_flood_';
/** The script of every create: it never reaches its export, so validation runs into its time limit. */
const ENDLESS_TOP_LEVEL = Buffer.from('while (true) {}\nexport default { onCall() {} }').toString('base64');

function hostileBatch(size: number, tag: string, token: string): string {
  return batchBody(size, (i) => ({
    method: 'js-worker_create',
    params: { token, name: `${NAME_PREFIX}${tag}_${i}`, js_script_base64: ENDLESS_TOP_LEVEL },
  }));
}

/** Names of stored workers that the flood would have created, had a create gone through. */
async function floodWorkersStored(url: string, token: string): Promise<number | undefined> {
  const reply = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: rpcBody('js-worker_list_all_js_worker', { token }),
  });
  const body = (await reply.json()) as { result?: string[] };
  return body.result?.filter((name) => name.startsWith(NAME_PREFIX)).length;
}

/**
 * 16-way S1 alone, then while creates whose script loops forever at its top level arrive in
 * batches of 8 (one client, again and again) and of 30 (once). Validation runs on the sandbox
 * threads, so S1 must keep a p99 under 100 ms and never fail, and every create must be refused.
 */
export const validationFlood: ChaosScenario = {
  id: 'validation-flood',
  title: '16-way S1 while batches of 8 and 30 creates with an endless top-level loop are validated',
  async run(context): Promise<ScenarioResult> {
    const started = Date.now();
    const { tokens, s1Body } = context.data;
    const server = await context.startServer();
    const rss = sampleRss(server.pid);
    try {
      const url = `${server.url}/`;
      const clock = startClock();
      const baseline = await loop({ url, body: s1Body, concurrency: CLIENTS, durationMs: BASELINE_MS, timeoutMs: 15_000, clock });

      // The attackers run on threads of their own, like heavy+logins', so that S1's client times only the server.
      const clockOrigin = performance.timeOrigin + performance.now() - clock();
      const attack = { url, concurrency: 1, timeoutMs: ATTACK_TIMEOUT_MS, clockOrigin };
      const small = loopInWorker({ ...attack, durationMs: SMALL_BATCHES_MS, body: { fixed: hostileBatch(SMALL_BATCH, 'small', tokens.super) }, calls: SMALL_BATCH });
      // A window of 1 ms: the loop sends its first request and no other.
      const large = loopInWorker({ ...attack, durationMs: 1, body: { fixed: hostileBatch(LARGE_BATCH, 'large', tokens.super) }, calls: LARGE_BATCH });
      let attacking = true;
      const attacks = Promise.all([small, large]).finally(() => (attacking = false));
      const s1 = loop({ url, body: s1Body, concurrency: CLIENTS, durationMs: ATTACK_TIMEOUT_MS, timeoutMs: 15_000, clock, until: () => !attacking });
      const [[smallReplies, largeReplies], s1Replies] = await Promise.all([attacks, s1]);
      const peak = rss.stop().peakBytes;
      const alive = isRunning(server.pid);
      const stored = alive ? await floodWorkersStored(url, tokens.super).catch(() => undefined) : undefined;
      const healthy = alive ? await post(url, s1Body, { timeoutMs: 5_000 }, clock) : undefined;

      const base = latency(baseline);
      const under = latency(s1Replies);
      const s1Counts = tally(s1Replies);
      const hostileReplies = [...smallReplies, ...largeReplies];
      const hostile = tally(hostileReplies);
      const all = mergeTallies(tally(baseline), s1Counts, hostile);
      const batchSeconds = hostileReplies.map((r) => round((r.doneAt - r.sentAt) / 1000, 1));
      const floodSeconds = round((Math.max(...hostileReplies.map((r) => r.doneAt)) - Math.min(...hostileReplies.map((r) => r.sentAt))) / 1000, 1);
      const others = unexpectedCodes(hostile, ['108']);
      return {
        id: this.id,
        title: this.title,
        ...callCounts(all),
        peakRssBytes: peak,
        recovery: `S1 p99 ${under.p99Ms} ms (baseline ${base.p99Ms} ms) during ${floodSeconds} s of validations`,
        checks: [
          neverFailsCheck('S1', s1Counts),
          check(`S1 p99 under ${P99_LIMIT_MS} ms during the flood`, under.p99Ms < P99_LIMIT_MS, `${base.p99Ms} → ${under.p99Ms} ms (p50 ${base.p50Ms} → ${under.p50Ms} ms), ${under.count} calls`),
          check(
            'every hostile create refused with 108, none hangs',
            hostile.sent > 0 && hostile.ok === 0 && hostile.timedOut === 0 && Object.keys(others).length === 0,
            `${hostile.sent} creates in ${hostileReplies.length} batches: ${JSON.stringify(hostile.errorsByCode)}, ${hostile.ok} ok, ${hostile.timedOut} timed out`,
          ),
          check('no hostile worker stored', stored === 0, `${stored ?? 'unknown'} stored`),
          peakRssCheck(peak),
          check('the server survives and serves', alive && healthy?.outcomes[0] === 'ok', alive ? `running, S1 after: ${healthy?.outcomes[0]}` : 'gone'),
        ],
        details: {
          s1Baseline: base,
          s1DuringFlood: under,
          s1: s1Counts,
          hostile: { ...hostile, batches: hostileReplies.length, batchSeconds, floodSeconds },
        },
        seconds: round((Date.now() - started) / 1000, 1),
      };
    } finally {
      rss.stop();
      await server.stop();
    }
  },
};
