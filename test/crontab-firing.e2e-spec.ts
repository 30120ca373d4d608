import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CrontabScheduler } from '../src/crontab/crontab.scheduler';
import { createWorker, rpcCall } from './support/js-worker.helpers';
import { startTestApp, type TestApp } from './support/test-app';
import { backendName, createTestDatabase, serverUrl, type TestDatabase } from './support/test-database';

const EVERY_SECOND = '* * * * * *';
const TICK = 'export default { onCron(params, env, ctx) { return { params, run_type: ctx.run_type }; } }';
const HANG = 'export default { onCron() { for (;;) {} } }';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Firing {
  cron_name: string;
  run_time: number;
  relative_id: number | null;
  success: boolean;
  message: string;
  start_time: number | null;
  run_type: string | null;
  param: unknown;
}

/** Every firing record with the js_result row it names, oldest first. */
async function firings(sut: TestApp, name: string): Promise<Firing[]> {
  const rows = await sut.dataSource.query(
    `SELECT f.cron_name, f.run_time, f.relative_id, f.success, f.message, r.start_time, r.run_type, r.param
     FROM crontab_result f LEFT JOIN js_result r ON r.id = f.relative_id WHERE f.cron_name = $1 ORDER BY f.run_time`,
    [name],
  );
  return rows.map((row: any) => ({
    ...row,
    run_time: Number(row.run_time),
    relative_id: row.relative_id === null ? null : Number(row.relative_id),
    start_time: row.start_time === null ? null : Number(row.start_time),
  }));
}

const schedule = (sut: TestApp, name: string, worker: string, params: unknown = null) =>
  rpcCall(sut.app, 'crontab_create', { token: sut.superToken, name, cron_expression: EVERY_SECOND, cron_type: { server: { js_worker: [worker, params] } } });

/** The embedded database in a directory, so that a later app can open it again; a database of its own on PostgreSQL. */
async function reopenableDatabase(): Promise<TestDatabase> {
  if (serverUrl) return createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'jsr-crontab-'));
  return { target: { kind: 'embedded', dataDir }, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
}

interface Observed {
  started: number;
  down: number;
  up: number;
  enabled: number;
  doomedAt: number;
  ticks: Firing[];
  orphaned: Firing[];
  ghost: Firing[];
  hanging: Firing[];
  caught: Firing[];
  paused: Firing[];
  lastRunTime: number;
}

/**
 * One run of two instances' lives, one after the other, on one database:
 * the first fires a few seconds of every-second jobs (a healthy one, one whose
 * worker does not exist, one whose runs never end, on a single sandbox thread)
 * and stops; none runs for 2.5 s; the second starts and fires on.
 */
async function observe(): Promise<Observed> {
  const database = await reopenableDatabase();
  try {
    let sut = await startTestApp({ jsWorkerPoolSize: 1 }, database);
    await createWorker(sut.app, sut.superToken, 'tick', TICK);
    await createWorker(sut.app, sut.superToken, 'hang', HANG, { max_run_time: 20_000 });
    const started = Date.now();
    await createWorker(sut.app, sut.superToken, 'doomed', TICK);
    for (const [name, worker] of [['hanging', 'hang'], ['every_second', 'tick'], ['ghost_job', 'ghost'], ['caught_up', 'tick'], ['paused', 'tick'], ['orphaned', 'doomed']]) {
      expect((await schedule(sut, name, worker, { n: 1 })).result).toBeDefined();
    }
    await sleep(1_600);
    await rpcCall(sut.app, 'js-worker_delete', { token: sut.superToken, name: 'doomed' });
    const doomedAt = Date.now();
    await sleep(2_000);
    await rpcCall(sut.app, 'crontab_delete', { token: sut.superToken, name: 'hanging' });
    await rpcCall(sut.app, 'crontab_set_enable', { token: sut.superToken, name: 'paused', enable: false });
    const ticks = await firings(sut, 'every_second');
    const ghost = await firings(sut, 'ghost_job');
    const hanging = await firings(sut, 'hanging');
    const orphaned = await firings(sut, 'orphaned');
    const [job] = (await rpcCall(sut.app, 'crontab_get', { token: sut.superToken })).result.filter((j: any) => j.name === 'every_second');
    await sut.close();
    const down = Date.now();
    await sleep(2_500);
    sut = await startTestApp({}, database);
    try {
      const up = Date.now();
      await rpcCall(sut.app, 'crontab_set_enable', { token: sut.superToken, name: 'paused', enable: true });
      const enabled = Date.now();
      await sleep(1_500);
      const caught = (await firings(sut, 'caught_up')).filter((f) => f.run_time > down);
      const paused = (await firings(sut, 'paused')).filter((f) => f.run_time > down);
      return { started, down, up, enabled, doomedAt, ticks, ghost, hanging, orphaned, caught, paused, lastRunTime: job.last_run_time };
    } finally {
      await sut.close();
    }
  } finally {
    await database.drop();
  }
}

describe(`${CrontabScheduler.name} firing in real time (${backendName})`, () => {
  let sut: Observed;
  beforeAll(async () => {
    sut = await observe();
  });

  it('fires an every-second job at each second, each firing linked to its cron run, started within a second of its due time', () => {
    expect(sut.ticks.length).toBeGreaterThanOrEqual(3);
    sut.ticks.forEach((firing, i) => {
      expect(firing.run_time % 1_000).toBe(0);
      expect(firing.run_time).toBeGreaterThan(sut.started);
      if (i > 0) expect(firing.run_time - sut.ticks[i - 1].run_time).toBe(1_000);
      expect(firing).toMatchObject({ success: true, run_type: 'cron', param: { n: 1 }, message: `started js_worker tick: js_result ${firing.relative_id}` });
      expect(firing.start_time! - firing.run_time).toBeLessThan(1_000);
    });
    expect(sut.lastRunTime).toBeGreaterThanOrEqual(sut.ticks.at(-1)!.run_time);
  });

  it('records a firing whose worker does not exist as a failure naming it, and keeps the schedule', () => {
    expect(sut.ghost.length).toBeGreaterThanOrEqual(3);
    for (const firing of sut.ghost) expect(firing).toMatchObject({ success: false, relative_id: null, message: 'js_worker not found: ghost' });
  });

  it('goes on firing a job whose worker was deleted, each firing a failure naming it', () => {
    const before = sut.orphaned.filter((f) => f.run_time < sut.doomedAt - 100);
    const after = sut.orphaned.filter((f) => f.run_time > sut.doomedAt + 100);
    expect(before.length).toBeGreaterThanOrEqual(1);
    expect(before.every((f) => f.success)).toBe(true);
    expect(after.length).toBeGreaterThanOrEqual(1);
    for (const firing of after) expect(firing).toMatchObject({ success: false, relative_id: null, message: 'js_worker not found: doomed' });
  });

  it('fires a job whose runs never end every second without delaying the others (checked above on one sandbox thread)', () => {
    expect(sut.hanging.length).toBeGreaterThanOrEqual(3);
    expect(sut.hanging.every((firing) => firing.success)).toBe(true);
  });

  it('fires once, at the latest due time, for all the times missed while no instance ran', () => {
    const inGap = sut.caught.filter((f) => f.run_time < sut.up);
    expect(inGap).toHaveLength(1);
    expect(inGap[0].run_time).toBeGreaterThan(sut.up - 1_000);
    expect(sut.caught.length).toBeGreaterThan(1);
  });

  it('does not replay the times a re-enabled job was disabled for', () => {
    expect(sut.paused.length).toBeGreaterThanOrEqual(1);
    for (const firing of sut.paused) expect(firing.run_time).toBeGreaterThan(sut.enabled - 1_000);
  });
});
