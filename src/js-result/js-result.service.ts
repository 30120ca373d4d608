import { Inject, Injectable } from '@nestjs/common';
import { JsonText } from '../common/json-text';
import { JsonTextStream } from '../common/json-text-stream';
import { type ReplyBudget, unlimitedReplies } from '../common/reply-budget';
import { Semaphore } from '../common/semaphore';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import type { AuditAction } from '../database/audited-change';
import { ServerSecretRepository } from '../nodeget-server/server-secret.repository';
import type { Auth } from '../token/auth';
import { DEFAULT_QUERY_CAP, type Selection } from './conditions/condition.types';
import { authoriseWorkers, grantsNothing } from './js-result.access';
import type { PageSelection } from './js-result.params';
import { type DeleteOutcome, type JsResultRecord, recordsJsonText, type TextRow } from './js-result.record';
import { type AssembledPage, JsResultRepository, type StreamedElement } from './js-result.repository';
import {
  type ListedNamesScope,
  distinctNames,
  type PatternScope,
  type RecordField,
  type StreamForm,
  valueShare,
  withheld,
  type WorkerScope,
} from './js-result.statements';
import type { RowKey } from './row-key';
import { cursorBinding, PageCursors } from './page-cursor';
import { WorkerNamesCache } from './worker-names.cache';
import { recordsStream, STREAM_BATCH_BYTES } from './streamed-records';

/**
 * The records of a read, as JSON text: written here from rows whose `param`
 * and `result` came as text, for the usual short reads; above the default
 * cap, on PostgreSQL, streamed: the records' JSON elements read through a
 * cursor a batch at a time and sent as they come (JsonTextStream), the
 * array's exact length known from the first row; on the embedded database,
 * whose one session a held cursor would take from every other caller while
 * a client reads, the JSON array it assembled. Measured (bench/README.md): for
 * 10 rows, building the JSON in PostgreSQL costs the database more than
 * writing it here; for 10,000 rows both cost the same overall,
 * and JSON text holds a fraction of the memory of 10,000 row objects.
 */
export type JsResultRecords = Partial<JsResultRecord>[] | JsonText | JsonTextStream;

export interface PageRequest {
  selection: PageSelection;
  cursor?: string;
  pageSize: number;
  fields?: RecordField[];
}
@Injectable()
export class JsResultService {
  /**
   * Reads above the default cap (up to 10,000 rows) each hold megabytes until
   * their reply is written. Each is admitted against LARGE_READ_MEMORY_BYTES
   * for the most its answer may be, so together they hold a bounded amount
   * whatever the requests ask. Running more than a couple of the largest at
   * once adds memory, not throughput (measured: bench/README.md, many clients
   * asking for 10,000 rows each). They also run at most
   * LARGE_READ_MAX_CONCURRENT at once, for the CPU the database spends on each
   * and, streamed, for the pooled connection each holds until it is sent.
   * A streamed read is admitted for the batches it holds, not its whole answer.
   */
  private readonly largeReads: Semaphore;
  private readonly largeReadSlots: Semaphore;
  /** One large read at a time per request (see runLargeRead), for as long as the request's budget lives. */
  private readonly requestLargeReads = new WeakMap<ReplyBudget, Semaphore>();
  /** Whether large reads are streamed through a cursor (PostgreSQL) or assembled whole (the embedded database). */
  private readonly streams: boolean;
  private readonly workerNames: WorkerNamesCache;
  private cursors?: Promise<PageCursors>;

  constructor(
    private readonly results: JsResultRepository,
    private readonly secrets: ServerSecretRepository,
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'workerNamesCacheTtlMs' | 'responses'> & Partial<Pick<AppConfig, 'database'>>,
  ) {
    this.streams = config.database?.kind === 'postgres';
    this.largeReads = new Semaphore(config.responses.largeReadMemoryBytes);
    this.largeReadSlots = new Semaphore(config.responses.largeReadMaxConcurrent);
    this.workerNames = new WorkerNamesCache((prefixes) => this.results.workerNamesUnder(prefixes), config.workerNamesCacheTtlMs);
  }

  /**
   * The newest records matching every condition that the caller may read;
   * only `fields` of each, if given. No read brings more into this process
   * than what is left of `replies`: a short read's rows come only if each of
   * their values is within its share of it (see valueShare); otherwise, and
   * above the default cap, the read is a large read: on PostgreSQL streamed,
   * its exact length known before any of it is sent, and charged (or refused)
   * where its reply is written; on the embedded database measured, and
   * assembled if it fits, in the database, which stops as soon as the answer
   * would not fit. An answer that does not fit fails with the error that says
   * so, its size being the bytes of the JSON array of the records (streamed:
   * of the reply).
   */
  async query(
    selection: Selection,
    auth: Auth,
    fields?: readonly RecordField[],
    replies: ReplyBudget = unlimitedReplies(),
  ): Promise<JsResultRecords> {
    const access = authoriseWorkers(selection, auth, 'read');
    if (grantsNothing(access)) return [];
    const scope = access.kind === 'all' ? access : await this.listedNamesOf(access);
    if (scope.kind === 'listed-names' && scope.names.length === 0) return [];
    const limit = selection.limit ?? DEFAULT_QUERY_CAP;
    if (limit <= DEFAULT_QUERY_CAP) {
      replies.ensureLeft();
      const share = valueShare(replies.allowance, limit, fields);
      const rows = await this.results.textRows(selection.filters, scope, limit, fields, share);
      if (!rows.some(withheld)) return new JsonText(recordsJsonText(rows, fields));
      // A value over its share: the read is measured, and assembled if it fits, in the database.
    }
    if (this.streams) return this.streamLargeRead('json-stream', selection.filters, scope, undefined, limit, fields, replies, (stream) => stream);
    return this.runLargeRead(async () => {
      // Read again once admitted: the batch's earlier calls may have used the request's budget meanwhile.
      replies.ensureLeft();
      const cap = replies.allowance;
      const { json, bytes } = await this.results.assembledJson(selection.filters, scope, limit, fields, cap);
      if (json !== null) return new JsonText(json);
      replies.check(Number(bytes));
      throw new Error(`the database withheld an answer of ${bytes} bytes, within the cap of ${cap}`);
    }, replies.allowance, replies);
  }

  /**
   * A large read streamed (see JsResultRecords): admitted as runLargeRead
   * admits, for two batches, and holding its slot until the stream is closed.
   * The first row gives the answer's exact length: the reply is charged to
   * `replies` (or refused, as any reply that does not fit) where it is
   * written, before anything of it is read further or sent. A stream of no
   * rows is `[]` at once.
   */
  private streamLargeRead<T>(
    form: StreamForm,
    filters: Selection['filters'],
    scope: WorkerScope,
    after: RowKey | undefined,
    size: number,
    fields: readonly RecordField[] | undefined,
    replies: ReplyBudget,
    answer: (records: JsonTextStream | JsonText, first: StreamedElement | undefined) => T,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const held = this.runLargeRead(async () => {
        replies.ensureLeft();
        const cursor = await this.results.streamedElements(form, filters, scope, after, size, fields);
        let stream: JsonTextStream | undefined;
        try {
          const [first] = await cursor.fetch(1);
          if (first === undefined) {
            await cursor.close();
            return resolve(answer(new JsonText('[]'), undefined));
          }
          stream = recordsStream(cursor, first);
          resolve(answer(stream, first));
        } catch (error) {
          await (stream ?? cursor).close();
          throw error;
        }
        await stream.closed;
      }, Math.min(replies.allowance, 2 * STREAM_BATCH_BYTES), replies);
      held.catch(reject);
    });
  }

  /**
   * Runs a read above the default cap once a slot and `bytes` of the memory
   * budget are free, and once the request's (`replies`') other large reads
   * are done: a batch of them would otherwise take every slot, and the
   * database's cores, from everyone else's reads at once.
   */
  private runLargeRead<T>(read: () => Promise<T>, bytes: number, replies: ReplyBudget): Promise<T> {
    let own = this.requestLargeReads.get(replies);
    if (own === undefined) {
      own = new Semaphore(1);
      this.requestLargeReads.set(replies, own);
    }
    return own.run(() => this.largeReadSlots.run(() => this.largeReads.run(read, bytes)));
  }

  /** How many records `delete` would delete with the same conditions, for a caller who may read them. */
  async count(selection: Selection, auth: Auth): Promise<{ count: number }> {
    const access = authoriseWorkers(selection, auth, 'read');
    if (grantsNothing(access)) return { count: 0 };
    return { count: await this.results.count(selection.filters, access, selection.limit) };
  }

  /**
   * One page of a walk over every match, newest first. The cursor is checked
   * before anything is read: it must be one issued for this token and these
   * conditions. A page is held to `replies` as a query is: its rows come only
   * within their shares, and otherwise, or above the default cap, it is a large
   * read: streamed on PostgreSQL, assembled in the database and stopped there
   * at the budget on the embedded one (see JsResultRecords).
   */
  async page(request: PageRequest, auth: Auth, replies: ReplyBudget = unlimitedReplies()): Promise<JsonText | JsonTextStream> {
    const { selection, pageSize, fields } = request;
    const binding = cursorBinding(auth.tokenKey, selection.conditionsText);
    const cursors = await this.pageCursors();
    const after = request.cursor === undefined ? undefined : cursors.read(request.cursor, binding);
    const access = authoriseWorkers(selection, auth, 'read');
    if (grantsNothing(access)) return pageJson([], undefined, null);
    // One more than the page: whether anything is left is known without another query.
    const size = pageSize + 1;
    if (pageSize <= DEFAULT_QUERY_CAP) {
      replies.ensureLeft();
      const share = valueShare(replies.allowance, size, fields);
      const rows = await this.results.pageRows(selection.filters, access, after, size, fields, share);
      if (!rows.some(withheld)) {
        const last = rows.length > pageSize ? rows[pageSize - 1] : undefined;
        return pageJson(rows.slice(0, pageSize), fields, last === undefined ? null : cursors.issue(positionOf(last), binding));
      }
      // As in query: a value over its share makes it a large read.
    }
    if (this.streams) {
      return this.streamLargeRead('page-stream', selection.filters, access, after, size, fields, replies, (items, first) => {
        const more = first !== undefined && Number(first.rows) > pageSize && first.last_id != null;
        const next = more ? cursors.issue({ startTime: first.last_start ?? null, id: first.last_id as string }, binding) : null;
        return pageOf(items, next);
      });
    }
    return this.runLargeRead(async () => {
      replies.ensureLeft();
      const cap = replies.allowance;
      const page: AssembledPage = await this.results.assembledPage(selection.filters, access, after, size, fields, cap);
      if (page.json === null) {
        replies.check(Number(page.bytes));
        throw new Error(`the database withheld a page of ${page.bytes} bytes, within the cap of ${cap}`);
      }
      const next = Number(page.rows) > pageSize && page.last_id !== null ? cursors.issue({ startTime: page.last_start, id: page.last_id }, binding) : null;
      return pageText(page.json, next);
    }, replies.allowance, replies);
  }

  /** The signer of page cursors, with the key every instance on the database shares (read once). */
  private pageCursors(): Promise<PageCursors> {
    this.cursors ??= this.secrets.read('page_cursor_key').then(
      (key) => {
        if (key === undefined) throw new Error('server_secret has no page_cursor_key: the CreateServerSecret migration has not run');
        return new PageCursors(key);
      },
      (err: unknown) => {
        this.cursors = undefined;
        throw err;
      },
    );
    return this.cursors;
  }

  /** Deletes what `query` would select, without its default cap, in one statement that also writes its audit entry. */
  async delete(selection: Selection, auth: Auth, action: AuditAction): Promise<DeleteOutcome> {
    const access = authoriseWorkers(selection, auth, 'delete');
    const outcome = (deleted: number): DeleteOutcome => ({
      success: true,
      deleted,
      condition_count: selection.conditionCount,
    });
    if (grantsNothing(access)) return outcome(0);
    return outcome(await this.results.delete(selection.filters, access, selection.limit, action));
  }

  /**
   * The workers a restricted read may see: the token's exact names as given,
   * and the existing names under its wildcard prefixes. Deletes do not use
   * this: they resolve the names inside their statement, so a cached list can
   * never leave a new worker's rows behind.
   */
  private async listedNamesOf(access: PatternScope): Promise<ListedNamesScope> {
    const prefixed = access.prefixes.length > 0 ? await this.workerNames.under(access.prefixes) : [];
    return distinctNames(access.names, prefixed);
  }
}

/**
 * A page as the reply's JSON text, `{"items": [records], "next_cursor": text | null}`
 * (null when nothing is left): its records written from the rows, as short reads are.
 */
function pageJson(rows: readonly TextRow[], fields: readonly RecordField[] | undefined, nextCursor: string | null): JsonText {
  return pageText(recordsJsonText(rows, fields), nextCursor);
}

/** A page around its streamed (or empty) items, as pageText writes it. */
function pageOf(items: JsonTextStream | JsonText, nextCursor: string | null): JsonText | JsonTextStream {
  if (items instanceof JsonText) return pageText(items.text, nextCursor);
  return items.wrapped('{"items":', `,"next_cursor":${JSON.stringify(nextCursor)}}`);
}

function pageText(itemsJson: string, nextCursor: string | null): JsonText {
  return new JsonText(`{"items":${itemsJson},"next_cursor":${JSON.stringify(nextCursor)}}`);
}

/** Where a walk stands after this row; integers as decimal text, exact whatever the driver gave. */
function positionOf(row: TextRow): RowKey {
  return { startTime: row.start_time === null ? null : String(row.start_time), id: String(row.id) };
}
