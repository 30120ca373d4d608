import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { DomainError, DomainErrorCode } from '../common/domain.error';
import { JsonText } from '../common/json-text';
import { type ReplyBudget, unlimitedReplies } from '../common/reply-budget';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { type Auth, canAccessWorker } from '../token/auth';
import { type CappedRow, JsResultRepository } from '../js-result/js-result.repository';
import { TurnBatcher } from '../common/turn-batcher';
import { LocalRuns } from './local-runs.registry';
import { ResultFinishedListener } from './result-finished.listener';
import { isFinished, readResultRow, readResultRows, resultRowsFrom, type ResultRow } from './result-rows.reader';

/**
 * How a waiter is woken: its row finished (with the row as read then, when
 * it fit the read's caps), the row gone, released (shutdown), or its timeout
 * passed. A waiter without a row, or whose budget the row does not fit,
 * reads its row again.
 */
type Wake = { kind: 'finished'; row?: ResultRow } | { kind: 'gone' } | { kind: 'released' } | { kind: 'timeout' };

interface Waiter {
  readonly key: string;
  readonly woken: Promise<Wake>;
  wake(outcome: Wake): void;
}

/** One call's read of its row, within what its reply may still take. */
interface RowRead {
  key: string;
  rowBytes: number;
}

/** How long shutdown waits for released waiters to read their rows before the database closes. */
const RELEASE_GRACE_MS = 5_000;

/** Ids read in one statement when many waiters are looked at together (a reconnect, shutdown). */
const READ_CHUNK = 1_000;

/** The same message whether the row is missing or not readable, so ids cannot be probed. */
const notFound = (key: string) => new DomainError(DomainErrorCode.NotFound, `js_result ${key} not found`);

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * `js-result_wait`: answers with a record once it has finished, or as it
 * stands when the timeout passes. Waiters are held in memory (at most
 * `jsResultMaxWaiters` per process) and woken by ResultFinishedListener, which
 * hears finishes from every instance on the database. A waiter is registered
 * before its row is read, so a finish landing between the read and the wait
 * is not missed; when announcements may have been lost, every waiting row is
 * read again. On shutdown every waiter is answered with its row as it stands.
 */
@Injectable()
export class JsResultWaitService implements OnModuleDestroy {
  private readonly logger = new Logger(JsResultWaitService.name);
  private readonly waiters = new Map<string, Set<Waiter>>();
  private count = 0;
  private closing = false;
  private readonly unsubscribe: () => void;
  private readonly unobserve: () => void;
  /** The reads of single rows made in one turn (calls as they arrive), one statement for many. */
  private readonly reads = new TurnBatcher<RowRead, ResultRow | undefined>(
    (items) => this.readMany(items),
    (item) => readResultRow(this.results, item.key, item.rowBytes),
    { maxBatch: READ_CHUNK, maxInFlight: 2 },
  );

  constructor(
    private readonly results: JsResultRepository,
    listener: ResultFinishedListener,
    private readonly localRuns: LocalRuns,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'jsResultMaxWaiters' | 'responses'>,
  ) {
    this.unsubscribe = listener.subscribe({
      finished: (ids) => this.heard(ids),
      missed: () => void this.settle([...this.waiters.keys()], false),
    });
    this.unobserve = localRuns.observe({
      waitsFor: (key) => this.waiters.has(key),
      ended: (key, row) => this.endedHere(key, row),
    });
  }

  /** Calls waiting now on this process. */
  get waiting(): number {
    return this.count;
  }

  /**
   * The record as JSON text, copied from the database's own text of it (exact
   * numbers, any depth). Its size is measured in the database first: one that
   * would not fit `replies` is refused with 108 without being loaded.
   */
  async wait(id: bigint, timeoutMs: number, auth: Auth, replies: ReplyBudget = unlimitedReplies()): Promise<JsonText> {
    if (this.count >= this.config.jsResultMaxWaiters) {
      throw new DomainError(
        DomainErrorCode.NotAcceptable,
        `too many js-result_wait calls are waiting on this server (at most ${this.config.jsResultMaxWaiters}); try again later`,
      );
    }
    const key = id.toString();
    const waiter = this.register(key);
    let timer: NodeJS.Timeout | undefined;
    try {
      if (!this.knownRunning(key, auth, timeoutMs)) {
        const row = await this.readable(key, auth, replies);
        if (isFinished(row) || timeoutMs === 0 || this.closing) return answer(row, replies);
      }
      timer = setTimeout(() => waiter.wake({ kind: 'timeout' }), timeoutMs);
      const outcome = await waiter.woken;
      if (outcome.kind === 'gone') throw notFound(key);
      const heard = outcome.kind === 'finished' ? outcome.row : undefined;
      if (heard !== undefined && fits(heard, replies) && canAccessWorker(auth, 'read', heard.record.js_worker_name)) return answer(heard, replies);
      return answer(await this.readable(key, auth, replies), replies);
    } finally {
      clearTimeout(timer);
      this.unregister(waiter);
    }
  }

  /**
   * Whether the row is a run of this process not finished yet that the caller
   * may read: then there is nothing to read before waiting (see LocalRuns).
   * Anything else (another instance's run, no permission, an answer wanted at
   * once) reads the row first.
   */
  private knownRunning(key: string, auth: Auth, timeoutMs: number): boolean {
    if (timeoutMs === 0 || this.closing) return false;
    const worker = this.localRuns.workerOf(key);
    return worker !== undefined && canAccessWorker(auth, 'read', worker);
  }

  /** Answers every waiter with its row as it stands, while the database is still open. */
  async onModuleDestroy(): Promise<void> {
    this.closing = true;
    this.unsubscribe();
    this.unobserve();
    await this.settle([...this.waiters.keys()], true);
    // Released waiters read their rows once more: the database must still be open for them.
    const deadline = Date.now() + RELEASE_GRACE_MS;
    while (this.count > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  /** The row, measured against what `replies` has left before its record is loaded. */
  private async readable(key: string, auth: Auth, replies: ReplyBudget): Promise<ResultRow> {
    const row = await this.reads.add({ key, rowBytes: replies.allowance });
    if (row === undefined || !canAccessWorker(auth, 'read', row.record.js_worker_name)) throw notFound(key);
    return row;
  }

  /**
   * Rows read together, each within its own call's cap: one statement per
   * cap (calls alone all have the same one), whose batch cap is the sum of
   * its rows' (what the reads alone could have taken), so none is withheld
   * as `later`.
   */
  private async readMany(items: RowRead[]): Promise<(ResultRow | undefined)[]> {
    const byCap = new Map<number, string[]>();
    for (const item of items) {
      const keys = byCap.get(item.rowBytes);
      if (keys === undefined) byCap.set(item.rowBytes, [item.key]);
      else keys.push(item.key);
    }
    const found = new Map<string, ResultRow>();
    await Promise.all(
      [...byCap].map(async ([rowBytes, keys]) => {
        const rows = await readResultRows(this.results, keys, { rowBytes, batchBytes: rowBytes * keys.length });
        for (const row of rows) found.set(`${rowBytes}:${String(row.record.id)}`, row);
      }),
    );
    return items.map((item) => found.get(`${item.rowBytes}:${item.key}`));
  }

  /** A finish announced: rows whose end this process is writing are left to endedHere, which needs no read. */
  private heard(ids: readonly string[]): void {
    if (this.count === 0) return;
    const wanted = ids.filter((id) => this.waiters.has(id) && !this.localRuns.isEnding(id));
    if (wanted.length > 0) void this.settle(wanted, false);
  }

  /**
   * This process wrote a run's end (or gave up): its waiters are woken with the
   * record the write read back, as a settle's read would have (capped alike);
   * without one (not wanted when the write began, the row gone, the write
   * failed) they are settled by a read.
   */
  private endedHere(key: string, capped: CappedRow | undefined): void {
    if (!this.waiters.has(key)) return;
    const [row] = capped === undefined ? [] : resultRowsFrom([capped], { rowBytes: this.config.responses.maxCallResponseBytes });
    if (row !== undefined && isFinished(row)) this.wakeAll(key, { kind: 'finished', row: row.json === undefined ? undefined : row });
    else void this.settle([key], false);
  }

  /**
   * Reads the rows waited on and wakes their waiters: those whose row has
   * finished (or is gone), or every one of them when `release`. A finished
   * row's record comes along, capped as notifications are, so the usual wake
   * costs one statement; whoever it does not suit reads the row again.
   */
  private async settle(keys: readonly string[], release: boolean): Promise<void> {
    const cap = this.config.responses.maxCallResponseBytes;
    for (const chunk of chunks(keys, READ_CHUNK)) {
      let rows: Map<string, ResultRow>;
      try {
        rows = byId(await readResultRows(this.results, chunk, { rowBytes: cap, batchBytes: cap }));
      } catch (error) {
        // The waiters stay; their timeout reads the row again.
        this.logger.warn({ err: error }, 'could not read finished rows for js-result_wait');
        if (release) for (const key of chunk) this.wakeAll(key, { kind: 'released' });
        continue;
      }
      for (const key of chunk) {
        const row = rows.get(key);
        if (row === undefined) this.wakeAll(key, { kind: 'gone' });
        else if (release) this.wakeAll(key, { kind: 'released' });
        else if (isFinished(row)) this.wakeAll(key, { kind: 'finished', row: row.json === undefined ? undefined : row });
      }
    }
  }

  private wakeAll(key: string, outcome: Wake): void {
    for (const waiter of this.waiters.get(key) ?? []) waiter.wake(outcome);
  }

  private register(key: string): Waiter {
    let wake!: (outcome: Wake) => void;
    const woken = new Promise<Wake>((resolve) => (wake = resolve));
    const waiter: Waiter = { key, woken, wake };
    let set = this.waiters.get(key);
    if (set === undefined) this.waiters.set(key, (set = new Set()));
    set.add(waiter);
    this.count++;
    return waiter;
  }

  private unregister(waiter: Waiter): void {
    const set = this.waiters.get(waiter.key);
    if (!set?.delete(waiter)) return;
    this.count--;
    if (set.size === 0) this.waiters.delete(waiter.key);
  }
}

function byId(rows: readonly ResultRow[]): Map<string, ResultRow> {
  return new Map(rows.map((row) => [String(row.record.id), row]));
}

/** Whether a row read for someone else can answer this call: its record came, within what the call may still take. */
function fits(row: ResultRow, replies: ReplyBudget): boolean {
  return row.json !== undefined && row.bytes <= replies.allowance;
}

/** The record's text, or the 108 naming its size when the database withheld it for not fitting. */
function answer(row: ResultRow, replies: ReplyBudget): JsonText {
  if (row.json !== undefined) return new JsonText(row.json);
  replies.check(row.bytes);
  // Withheld yet within the budget: only a budget spent meanwhile by the batch's other calls.
  replies.ensureLeft();
  throw new DomainError(DomainErrorCode.ResponseTooLarge, `the answer would be ${row.bytes} bytes, more than this call may take`, {
    data: { limit: 'MAX_RESPONSE_BYTES', limit_bytes: replies.requestLimit, left_bytes: replies.allowance, size_bytes: row.bytes },
  });
}
