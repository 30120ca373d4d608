import type { AppConfig } from '../config/app.config';
import type { CappedRow, JsResultRepository } from '../js-result/js-result.repository';
import type { Auth } from '../token/auth';
import { JsResultWaitService } from './js-result-wait.service';
import { LocalRuns } from './local-runs.registry';
import type { FinishedObserver, ResultFinishedListener } from './result-finished.listener';

const SUPER: Auth = { kind: 'super', tokenId: 1, tokenKey: 'k' };
const CALL_CAP = 1_000_000;

/** A row as the database measures and sends it (SELECT_CAPPED_BY_IDS, or a finish reading its records back). */
function capped(id: number, result: string | null, finished = true): CappedRow {
  return {
    id: String(id),
    js_worker_id: '1',
    js_worker_name: 'echo',
    run_type: 'call',
    start_time: '1000',
    finish_time: finished ? '2000' : null,
    param: null,
    result,
    error_message: null,
    has_result: result !== null,
    has_error: false,
    bytes: 300,
    sent: true,
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

/**
 * The waits' side of a run ending on this process (LocalRuns): the record the finish read
 * back wakes the waiters without a read of their own, an announcement of that finish is not
 * read again, and anything the finish could not tell is read as before. The repository and
 * the listener are stand-ins: what is tested is which reads the service makes.
 */
describe(JsResultWaitService.name, () => {
  let sut: JsResultWaitService;
  let localRuns: LocalRuns;
  let announce: FinishedObserver;
  let stored: Map<string, CappedRow>;
  let reads: string[][];

  beforeEach(() => {
    stored = new Map();
    reads = [];
    const results = {
      cappedByIds: async (ids: readonly string[]) => {
        reads.push([...ids]);
        return ids.flatMap((id) => (stored.has(id) ? [stored.get(id)!] : []));
      },
    } as unknown as JsResultRepository;
    const listener = {
      subscribe: (observer: FinishedObserver) => {
        announce = observer;
        return () => undefined;
      },
    } as unknown as ResultFinishedListener;
    localRuns = new LocalRuns();
    const config = { jsResultMaxWaiters: 10, responses: { maxCallResponseBytes: CALL_CAP } } as Pick<AppConfig, 'jsResultMaxWaiters' | 'responses'>;
    sut = new JsResultWaitService(results, listener, localRuns, config);
  });

  afterEach(() => sut.onModuleDestroy());

  const answerOf = async (wait: Promise<{ text: string }>) => JSON.parse((await wait).text) as Record<string, unknown>;

  it('wakes a waiter with the record its run’s finish read back, reading nothing', async () => {
    localRuns.started(7, 'echo');
    const wait = sut.wait(7n, 5_000, SUPER);
    await tick();
    expect(localRuns.ending(7)).toBe(true);
    // The announcement of the finish may come before the finish statement's own answer.
    announce.finished(['7']);
    localRuns.ended(7, capped(7, '{"n": 1}'));
    expect(await answerOf(wait)).toMatchObject({ id: 7, result: { n: 1 }, finish_time: 2000 });
    expect(reads).toEqual([]);
  });

  it('says nobody waits for a run no call waits on, so its finish reads nothing back', () => {
    localRuns.started(8, 'echo');
    expect(localRuns.ending(8)).toBe(false);
    localRuns.ended(8, undefined);
    expect(localRuns.size).toBe(0);
  });

  it('reads the row once when the finish brought no record (a waiter that came while it was written, or a failed write)', async () => {
    localRuns.started(9, 'echo');
    expect(localRuns.ending(9)).toBe(false);
    // The run is no longer listed as running: the call reads its row, unfinished yet, and waits.
    stored.set('9', capped(9, null, false));
    const wait = sut.wait(9n, 5_000, SUPER);
    await tick();
    expect(reads).toEqual([['9']]);
    announce.finished(['9']);
    await tick();
    expect(reads).toEqual([['9']]);
    stored.set('9', capped(9, '"done"'));
    localRuns.ended(9, undefined);
    expect(await answerOf(wait)).toMatchObject({ id: 9, result: 'done' });
    expect(reads).toEqual([['9'], ['9']]);
  });

  it('still reads what other processes finish when it is announced', async () => {
    stored.set('10', capped(10, null, false));
    const wait = sut.wait(10n, 5_000, SUPER);
    await tick();
    stored.set('10', capped(10, '2'));
    announce.finished(['10']);
    expect(await answerOf(wait)).toMatchObject({ id: 10, result: 2 });
    expect(reads).toEqual([['10'], ['10']]);
  });
});
