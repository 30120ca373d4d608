import { analyseFirings, createEverySecondJobs, disableJobs } from '../bench/cron-firings';
import type { ServerProcess } from '../bench/processes';
import { fmtMs } from './outage';
import { check, type ChaosScenario, delay, type ScenarioResult } from './scenario';
import { round } from './tally';

const JOBS = 100;
const INSTANCES = 3;
const PREFIX = 'chaos_cron_';
/** How long the scenario kills for: CHAOS_CRON_SECONDS, 60 by default (a few seconds are enough to try it). */
const seconds = () => Number(process.env.CHAOS_CRON_SECONDS ?? 60);
/** Time between one instance's restart and the next kill. */
const KILL_EVERY_MS = 3_000;
const WARM_UP_MS = 3_000;
/** The last due times' firings are still being written this long after the window. */
const SETTLE_MS = 2_000;

/**
 * Three instances fire 100 every-second jobs while one of them, chosen at
 * random, is SIGKILLed every few seconds and started again. Whatever a kill
 * interrupts (a claim, the firing statement, runs in flight), every due time
 * must fire once: never twice, and never later than the kill's gap (the two
 * others go on firing), and every firing record must name its js_result row.
 */
export const cronKill: ChaosScenario = {
  id: 'cron-kill',
  title: `one of ${INSTANCES} instances SIGKILLed every ${KILL_EVERY_MS / 1000} s while ${JOBS} every-second jobs run`,
  async run(context): Promise<ScenarioResult> {
    const started = Date.now();
    const { url, tokens } = context.data;
    const servers: ServerProcess[] = [];
    for (let i = 0; i < INSTANCES; i++) servers.push(await context.startServer());
    const gaps: number[] = [];
    try {
      await createEverySecondJobs(url, servers[0].url, tokens.super, PREFIX, JOBS);
      await delay(WARM_UP_MS);
      const from = Date.now();
      while (Date.now() - from < seconds() * 1000) {
        await delay(KILL_EVERY_MS);
        const victim = Math.floor(Math.random() * servers.length);
        const killedAt = Date.now();
        process.kill(servers[victim].pid, 'SIGKILL');
        await servers[victim].stop();
        servers[victim] = await context.startServer();
        gaps.push(Date.now() - killedAt);
        context.log(`  cron-kill: instance ${victim} killed and back after ${fmtMs(gaps.at(-1)!)}`);
      }
      const to = Date.now();
      await delay(SETTLE_MS);
      await disableJobs(url, PREFIX);
      const result = await analyseFirings(url, PREFIX, from, to);
      const longestKill = Math.max(0, ...gaps);
      // A due time may wait for the kill only if every instance was down, which never happens here; the bound is the gap anyway.
      const allowedGapMs = 1_000 + Math.ceil(longestKill / 1_000) * 1_000;
      return {
        id: this.id,
        title: this.title,
        sent: 0,
        answered: 0,
        timedOut: 0,
        errorsByCode: {},
        rowsLostOrDuplicated: result.duplicates + result.missed,
        recovery: `${gaps.length} kills, each instance back in ≤ ${fmtMs(longestKill)}; longest gap between two firings of a job ${fmtMs(result.maxGapMs)}`,
        checks: [
          check('no due time fired twice', result.duplicates === 0, `${result.duplicates} duplicates in ${result.firings} firings`),
          check(
            'no due time missed by more than the kill gap',
            result.maxGapMs <= allowedGapMs,
            `${result.missed} due times without a firing; longest gap ${fmtMs(result.maxGapMs)}, allowed ${fmtMs(allowedGapMs)}`,
          ),
          check(
            'every firing record is linked to its js_result row',
            result.unlinked === 0 && result.orphanRuns === 0,
            `${result.unlinked} firings naming no row, ${result.orphanRuns} cron runs named by no firing (${result.failedFirings} firings recorded as failures)`,
          ),
        ],
        details: { ...result, kills: gaps.length, killGapsMs: gaps },
        seconds: round((Date.now() - started) / 1000, 1),
      };
    } finally {
      for (const server of servers) await server.stop().catch(() => undefined);
    }
  },
};
