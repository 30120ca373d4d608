import type { AppConfig } from '../config/app.config';
import type { ShutdownState } from '../health/shutdown.state';
import type { JsWorkerService } from '../js-worker/js-worker.service';
import type { ClaimedFiring, CrontabFirings, DueFiring } from './crontab.firings';
import type { CrontabRepository, ScheduledRow } from './crontab.repository';
import { CrontabScheduler } from './crontab.scheduler';

const T0 = Date.parse('2026-01-01T00:00:00.500Z');

function job(id: number, cronExpression: string, lastRunTime: number | null, scheduleFrom: number | null = null): ScheduledRow {
  return { id, name: `job${id}`, enable: true, cronExpression, lastRunTime, scheduleFrom };
}

/** The scheduler over an in-memory table; `claim` decides which due times this instance wins (another instance wins the rest). */
function harness(rows: ScheduledRow[], claim: (firing: DueFiring) => boolean = () => true) {
  const table = new Map(rows.map((row) => [row.id, { ...row }]));
  const fired: DueFiring[][] = [];
  const repository = {
    scheduled: jest.fn(async (ids?: readonly number[]) => [...table.values()].filter((row) => ids === undefined || ids.includes(row.id)).map((row) => ({ ...row }))),
  };
  const firings = {
    fire: jest.fn(async (batch: DueFiring[]): Promise<ClaimedFiring[]> => {
      fired.push(batch.map((firing) => ({ ...firing })));
      for (const firing of batch) table.get(firing.id)!.lastRunTime = firing.due;
      return batch.filter(claim).map((firing) => ({ id: firing.id, due: firing.due, runId: 100 + firing.id, worker: { name: 'w' }, params: null }));
    }),
  };
  const workers = { admitRun: jest.fn(() => ({ settled: false })), cancelRun: jest.fn(), runOwnerId: async () => 1, startRecorded: jest.fn() };
  const shutdown = { shuttingDown: false };
  const sut = new CrontabScheduler(
    repository as unknown as CrontabRepository,
    firings as unknown as CrontabFirings,
    workers as unknown as JsWorkerService,
    shutdown as ShutdownState,
    { database: { kind: 'embedded', dataDir: 'memory://' } } as Pick<AppConfig, 'database'>,
  );
  return { sut, table, fired, repository, workers, shutdown };
}

describe(CrontabScheduler.name, () => {
  beforeEach(() => jest.useFakeTimers({ now: T0 }));
  afterEach(() => jest.useRealTimers());

  it('sleeps until the nearest due time of all its jobs and fires only the jobs due then', async () => {
    const h = harness([job(1, '*/10 * * * * *', T0 - 500), job(2, '0 * * * * *', T0 - 500)]);
    await h.sut.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(9_000);
    expect(h.fired).toEqual([]);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(h.fired).toEqual([[{ id: 1, due: T0 - 500 + 10_000, seenRun: T0 - 500, seenFrom: null }]]);
    expect(h.workers.startRecorded).toHaveBeenCalledWith(expect.anything(), 101, { name: 'w' }, null);
    await jest.advanceTimersByTimeAsync(50_000);
    expect(h.fired.map((batch) => batch.map((f) => [f.id, (f.due - (T0 - 500)) / 1000]))).toEqual([
      [[1, 10]],
      [[1, 20]],
      [[1, 30]],
      [[1, 40]],
      [[1, 50]],
      [
        [1, 60],
        [2, 60],
      ],
    ]);
    await h.sut.onModuleDestroy();
  });

  it('fires a job that missed many due times once, for the latest of them, and starts its schedule again from there', async () => {
    const h = harness([job(1, '*/5 * * * * *', T0 - 500 - 3_600_000)]);
    await h.sut.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(0);
    expect(h.fired).toEqual([[{ id: 1, due: T0 - 500, seenRun: T0 - 500 - 3_600_000, seenFrom: null }]]);
    await jest.advanceTimersByTimeAsync(5_000);
    expect(h.fired.map((batch) => batch[0].due)).toEqual([T0 - 500, T0 - 500 + 5_000]);
    await h.sut.onModuleDestroy();
  });

  it('does not fire before a job was created or re-enabled (schedule_from), nor a due time another instance claimed', async () => {
    const h = harness([job(1, '* * * * * *', T0 - 60_000, T0 + 2_000)], () => false);
    await h.sut.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(2_400);
    expect(h.fired).toEqual([]);
    await jest.advanceTimersByTimeAsync(200);
    // Lost: another instance fired it. The row is read again and the same due time is never asked for twice.
    expect(h.fired).toEqual([[{ id: 1, due: T0 - 500 + 3_000, seenRun: T0 - 60_000, seenFrom: T0 + 2_000 }]]);
    expect(h.repository.scheduled).toHaveBeenLastCalledWith([1]);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(h.fired.map((batch) => [batch[0].due, batch[0].seenRun])).toEqual([
      [T0 - 500 + 3_000, T0 - 60_000],
      [T0 - 500 + 4_000, T0 - 500 + 3_000],
    ]);
    expect(h.workers.startRecorded).not.toHaveBeenCalled();
    expect(h.workers.cancelRun).toHaveBeenCalledTimes(2);
    await h.sut.onModuleDestroy();
  });

  it('records the pool refusing a run with the firing, and fires nothing once the server is shutting down', async () => {
    const h = harness([job(1, '* * * * * *', T0 - 500)]);
    h.workers.admitRun.mockImplementationOnce(() => {
      throw new Error('the run queue is full (1000 waiting); try again later');
    });
    await h.sut.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(h.fired).toEqual([[expect.objectContaining({ id: 1, refusal: 'the run queue is full (1000 waiting); try again later' })]]);
    h.shutdown.shuttingDown = true;
    await jest.advanceTimersByTimeAsync(5_000);
    expect(h.fired).toHaveLength(1);
    await h.sut.onModuleDestroy();
  });

  it('drops a job that is disabled or deleted before its next due time', async () => {
    const h = harness([job(1, '* * * * * *', T0 - 500), job(2, '* * * * * *', T0 - 500)]);
    await h.sut.onApplicationBootstrap();
    h.table.get(1)!.enable = false;
    h.table.delete(2);
    await h.sut.changed(1);
    await h.sut.changed(2);
    expect(h.sut.size).toBe(0);
    await jest.advanceTimersByTimeAsync(3_000);
    expect(h.fired).toEqual([]);
    await h.sut.onModuleDestroy();
  });
});
