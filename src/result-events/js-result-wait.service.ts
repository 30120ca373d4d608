import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DomainError, DomainErrorCode } from '../common/domain.error';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import type { JsResultRecord } from '../js-result/js-result.record';
import { type Auth, canAccessWorker } from '../token/auth';
import { ResultFinishedListener } from './result-finished.listener';
import { isFinished, readResultRows, type ResultRow } from './result-rows.reader';

/** How a waiter is woken: the finished row, the row gone, or released (shutdown) to answer with the row as it stands. */
type Wake = { kind: 'finished'; row: ResultRow } | { kind: 'gone' } | { kind: 'released' } | { kind: 'timeout' };

interface Waiter {
  readonly key: string;
  readonly woken: Promise<Wake>;
  wake(outcome: Wake): void;
}

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

  constructor(
    private readonly dataSource: DataSource,
    listener: ResultFinishedListener,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'jsResultMaxWaiters'>,
  ) {
    this.unsubscribe = listener.subscribe({
      finished: (ids) => this.heard(ids),
      missed: () => void this.settle([...this.waiters.keys()], false),
    });
  }

  /** Calls waiting now on this process. */
  get waiting(): number {
    return this.count;
  }

  async wait(id: bigint, timeoutMs: number, auth: Auth): Promise<JsResultRecord> {
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
      const row = await this.readable(key, auth);
      if (isFinished(row) || timeoutMs === 0 || this.closing) return row.record;
      timer = setTimeout(() => waiter.wake({ kind: 'timeout' }), timeoutMs);
      const outcome = await waiter.woken;
      if (outcome.kind === 'gone') throw notFound(key);
      if (outcome.kind === 'finished') return this.checked(outcome.row, key, auth).record;
      return (await this.readable(key, auth)).record;
    } finally {
      clearTimeout(timer);
      this.unregister(waiter);
    }
  }

  /** Answers every waiter with its row as it stands, while the database is still open. */
  async onModuleDestroy(): Promise<void> {
    this.closing = true;
    this.unsubscribe();
    await this.settle([...this.waiters.keys()], true);
  }

  private async readable(key: string, auth: Auth): Promise<ResultRow> {
    return this.checked((await readResultRows(this.dataSource, [key])).get(key), key, auth);
  }

  private checked(row: ResultRow | undefined, key: string, auth: Auth): ResultRow {
    if (row === undefined || !canAccessWorker(auth, 'read', row.record.js_worker_name)) throw notFound(key);
    return row;
  }

  private heard(ids: readonly string[]): void {
    if (this.count === 0) return;
    const wanted = ids.filter((id) => this.waiters.has(id));
    if (wanted.length > 0) void this.settle(wanted, false);
  }

  /**
   * Reads the rows waited on and wakes their waiters: those whose row has
   * finished (or is gone), or every one of them when `release`.
   */
  private async settle(keys: readonly string[], release: boolean): Promise<void> {
    for (const chunk of chunks(keys, READ_CHUNK)) {
      let rows: Map<string, ResultRow>;
      try {
        rows = await readResultRows(this.dataSource, chunk);
      } catch (error) {
        // The waiters stay; their timeout reads the row again.
        this.logger.warn({ err: error }, 'could not read finished rows for js-result_wait');
        if (release) for (const key of chunk) this.wakeAll(key, { kind: 'released' });
        continue;
      }
      for (const key of chunk) {
        const row = rows.get(key);
        if (row === undefined) this.wakeAll(key, { kind: 'gone' });
        else if (release || isFinished(row)) this.wakeAll(key, { kind: 'finished', row });
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
