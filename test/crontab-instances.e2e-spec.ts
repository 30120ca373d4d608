import { CrontabScheduler } from '../src/crontab/crontab.scheduler';
import { createWorker, rpcCall } from './support/js-worker.helpers';
import { startTestApp, type TestApp } from './support/test-app';
import { createTestDatabase, serverUrl, type TestDatabase } from './support/test-database';

const EVERY_SECOND = '* * * * * *';
const NEVER = '0 0 0 1 1 * 2099';
const TICK = 'export default { onCron(params) { return params; } }';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the next whole second has just passed, so that a change lands well before the following due time. */
async function justAfterASecond(): Promise<number> {
  await sleep(1_000 - (Date.now() % 1_000) + 50);
  return Date.now();
}

/** Several instances of the server on one PostgreSQL database, as the contract's "exactly once" is about. */
(serverUrl ? describe : describe.skip)(`${CrontabScheduler.name} across instances (postgres)`, () => {
  let database: TestDatabase;
  let sut: TestApp[];
  // Each app rolls the super token as it starts: the last one's is the one in force.
  const su = () => sut[sut.length - 1].superToken;
  const jobCall = (method: string, params: Record<string, unknown>, on = sut[0]) => rpcCall(on.app, method, { token: su(), ...params });
  const firings = async (name: string) =>
    (
      await sut[0].dataSource.query(
        `SELECT f.run_time, f.relative_id, r.param FROM crontab_result f LEFT JOIN js_result r ON r.id = f.relative_id WHERE f.cron_name = $1 ORDER BY f.run_time, f.id`,
        [name],
      )
    ).map((row: any) => ({ run_time: Number(row.run_time), relative_id: row.relative_id, param: row.param }));
  const held = () => sut.map((app) => app.app.get(CrontabScheduler).size);

  beforeAll(async () => {
    database = await createTestDatabase();
    sut = [];
    for (let i = 0; i < 3; i++) sut.push(await startTestApp({}, database));
    await createWorker(sut[0].app, su(), 'tick', TICK);
  });
  afterAll(async () => {
    for (const app of sut) await app.close();
    await database.drop();
  });

  it('three instances fire an every-second job for ten seconds: every due time once, none twice, none missed', async () => {
    const created = await jobCall('crontab_create', { name: 'shared', cron_expression: EVERY_SECOND, cron_type: { server: { js_worker: ['tick', { n: 1 }] } } }, sut[1]);
    expect(created.result).toBeDefined();
    await sleep(10_000);
    await jobCall('crontab_set_enable', { name: 'shared', enable: false });
    const fired = await firings('shared');
    const times = fired.map((f: { run_time: number }) => f.run_time);
    expect(new Set(times).size).toBe(times.length);
    expect(times.length).toBeGreaterThanOrEqual(9);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBe(1_000);
    expect(fired.every((f: { relative_id: unknown }) => f.relative_id !== null)).toBe(true);
  });

  it('an edit, a disable and a delete made on one instance are in force on the others before the next due time', async () => {
    await jobCall('crontab_create', { name: 'changing', cron_expression: EVERY_SECOND, cron_type: { server: { js_worker: ['tick', 'before'] } } });
    await sleep(1_500);
    expect(held()).toEqual([1, 1, 1]);

    const edited = await justAfterASecond();
    await jobCall('crontab_edit', { name: 'changing', cron_expression: EVERY_SECOND, cron_type: { server: { js_worker: ['tick', 'after'] } } }, sut[2]);
    await sleep(2_000);
    const afterEdit = (await firings('changing')).filter((f: { run_time: number }) => f.run_time >= edited + 1_000);
    expect(afterEdit.length).toBeGreaterThanOrEqual(1);
    expect(afterEdit.every((f: { param: unknown }) => f.param === 'after')).toBe(true);

    const disabled = await justAfterASecond();
    await jobCall('crontab_set_enable', { name: 'changing', enable: false }, sut[1]);
    await sleep(300);
    expect(held()).toEqual([0, 0, 0]);
    await jobCall('crontab_set_enable', { name: 'changing', enable: true }, sut[1]);
    await sleep(300);
    expect(held()).toEqual([1, 1, 1]);
    await jobCall('crontab_edit', { name: 'changing', cron_expression: NEVER, cron_type: { server: { js_worker: ['tick', 'never'] } } }, sut[0]);
    await sleep(1_500);
    expect((await firings('changing')).filter((f: { run_time: number }) => f.run_time >= disabled + 1_000)).toEqual([]);

    await jobCall('crontab_delete', { name: 'changing' }, sut[2]);
    await sleep(300);
    expect(held()).toEqual([0, 0, 0]);
  });
});
