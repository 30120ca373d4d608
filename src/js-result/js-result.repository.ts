import { Injectable } from '@nestjs/common';
import { Database, type StatementRunner } from '../database/database';
import type { AuditAction } from '../database/audited-change';
import type { RowCursor } from '../database/row-cursor';
import type { Statement } from '../database/statement';
import type { WorkerAccess } from '../token/auth';
import { shiftPlaceholders } from '../database/statement-shapes';
import type { Filter } from './conditions/condition.types';
import type { RecordField } from './js-result.columns';
import { JsResult } from './js-result.entity';
import { OUTCOMES, type RunOutcome } from './js-result.outcomes';
import type { TextRow } from './js-result.record';
import {
  deleteExpiredText,
  FINISH_RUNS_VALUES,
  finishRunsText,
  interruptRunning,
  RUN_CONSOLE,
  SELECT_CAPPED_BY_IDS,
  START_WORKER_RUNS_VALUES,
  startWorkerRunsText,
} from './js-result.sql';
import { JsResultStatements, type StreamForm, type WorkerScope } from './js-result.statements';
import type { RowKey } from './row-key';

/**
 * Another table's part of a statement on js_result, run in the same statement
 * (all or nothing): the body of one WITH part, its own values numbered from
 * $1. A step after a write reads the js_result ids the write touched from the
 * WITH part `run(id)`; a step before one (see interruptRuns) answers the ids
 * as a column `id`. Steps are constants of their module: the composed text is
 * built once per step.
 */
export interface CompanionStep {
  text: string;
  values: readonly unknown[];
}

/** A run of a stored worker as it starts (its row is running: no finish, result or error). */
export interface RunOfWorker {
  workerName: string;
  runType: string;
  startTime: number;
  /** The param as its JSON text, or null. */
  paramJson: string | null;
}

/** How a run ended: a result (its JSON text) or an error message, and its console lines (JSON text), if any. */
export interface RunEnd {
  finishTime: number;
  resultJson: string | null;
  errorMessage: string | null;
  consoleJson: string | null;
}

/** A run's end as recorded, and whether its finished record is wanted back (someone waits for it). */
export type RunEnding = RunEnd & { id: number; wanted: boolean };

/** A run's row written: its id, and its worker's row (every column, as JSON) as the statement read it. */
export interface StartedRun {
  id: number;
  worker: Record<string, unknown>;
}

/** A row read back by id, its large values measured in the database (see SELECT_CAPPED_BY_IDS). */
export type CappedRow = TextRow & { has_result: boolean; has_error: boolean; bytes: number | string; sent: boolean };

/** A page the database assembled (see JsResultStatements.pageJson); positions as text, so 64-bit ones stay exact. */
export interface AssembledPage {
  json: string | null;
  bytes: number | string;
  rows: number | string | bigint;
  last_start: string | null;
  last_id: string | null;
}

/** A row of a streamed read (see streamedElements in js-result.sql.ts); all but `element` on the first row only, the page's columns only on a page. */
export interface StreamedElement {
  element: string;
  bytes: number | string;
  widest: number | string;
  rows?: number | string;
  last_start?: string | null;
  last_id?: string | null;
}

/** A row of one worker to delete up to, and the outcome the delete is held to. */
export interface ExpiredRows {
  worker: string;
  outcome: RunOutcome;
  /** Rows strictly after this key in the worker's newest-first order go. */
  after: RowKey;
}

/** A batch of deleteExpired: how many rows it chose, how many it deleted, and the last chosen row's key. */
export interface ExpiredBatch {
  chosen: number;
  deleted: number;
  start_time: string | null;
  id: string | null;
}

/**
 * The js_result table (and js_result_console, each row's kept console
 * output): the only code that reads, writes or deletes them. Queries, pages,
 * counts and deletes by conditions are built by JsResultStatements; the run
 * writes and the reads by id are written whole (js-result.sql.ts says why).
 */
@Injectable()
export class JsResultRepository {
  readonly statements: JsResultStatements;
  private readonly composed = new Map<string, string>();
  /** Waits read rows by id on every finish they hear of: parsed once per connection. */
  private readonly selectCappedByIds: string;

  constructor(private readonly database: Database) {
    this.statements = new JsResultStatements(database.dataSource, { register: (text) => database.prepare(text, { named: true }) });
    this.selectCappedByIds = database.prepare(SELECT_CAPPED_BY_IDS, { named: true });
  }

  /** The rows of a built read (JsResultStatements), as the database answers them. */
  read<T>(statement: Statement): Promise<T[]> {
    return this.database.rows<T>(statement);
  }

  textRows(filters: readonly Filter[], scope: WorkerScope, limit: number, fields: readonly RecordField[] | undefined, share: number): Promise<TextRow[]> {
    return this.read(this.statements.selectTextRows(filters, scope, limit, fields, share));
  }

  async assembledJson(filters: readonly Filter[], scope: WorkerScope, limit: number, fields: readonly RecordField[] | undefined, cap: number) {
    const [row] = await this.read<{ json: string | null; bytes: number }>(this.statements.selectJson(filters, scope, limit, fields, cap));
    return row;
  }

  pageRows(filters: readonly Filter[], access: WorkerAccess, after: RowKey | undefined, size: number, fields: readonly RecordField[] | undefined, share: number): Promise<TextRow[]> {
    return this.read(this.statements.page(filters, access, after, size, fields, share));
  }

  async assembledPage(filters: readonly Filter[], access: WorkerAccess, after: RowKey | undefined, size: number, fields: readonly RecordField[] | undefined, cap: number): Promise<AssembledPage> {
    const [page] = await this.read<AssembledPage>(this.statements.pageJson(filters, access, after, size, fields, cap));
    return page;
  }

  /**
   * What assembledJson (`json-stream`) or assembledPage (`page-stream`) would
   * assemble, as a cursor over its elements (see JsResultStatements.streamed);
   * the caller must close it.
   */
  streamedElements(form: StreamForm, filters: readonly Filter[], scope: WorkerScope, after: RowKey | undefined, size: number, fields: readonly RecordField[] | undefined): Promise<RowCursor<StreamedElement>> {
    return this.database.cursor<StreamedElement>(this.statements.streamed(form, filters, scope, after, size, fields));
  }

  async count(filters: readonly Filter[], access: WorkerAccess, limit: number | undefined): Promise<number> {
    const [{ count }] = await this.read<{ count: string | number }>(this.statements.count(filters, access, limit));
    return Number(count);
  }

  /** Deletes by conditions, audited in the same statement (see JsResultStatements.delete); how many rows it deleted. */
  async delete(filters: readonly Filter[], access: WorkerAccess, limit: number | undefined, action: AuditAction): Promise<number> {
    const [{ affected }] = await this.read<{ affected: string | number }>(this.statements.delete(filters, access, limit, action));
    return Number(affected);
  }

  /** The existing worker names under any of the prefixes (the worker-name index's skip scan). */
  async workerNamesUnder(prefixes: readonly string[], on: StatementRunner = this.database): Promise<string[]> {
    const rows = await on.rows<{ name: string }>(this.statements.workerNames(prefixes));
    return rows.map((row) => row.name);
  }

  /** The rows of `ids` (decimal text) in that order, their values sent only within the caps (see SELECT_CAPPED_BY_IDS). */
  cappedByIds(ids: readonly string[], rowBytes: number, batchBytes: number): Promise<CappedRow[]> {
    return this.database.rows<CappedRow>({ text: this.selectCappedByIds, values: [ids, rowBytes, batchBytes] });
  }

  /**
   * Writes many runs' rows, running, each with its stored worker as the same
   * statement reads it, with `alongside` (over `run(id)`, every row written):
   * all or none of them. `worker` is the workers' module's part that finds
   * them by name (see startWorkerRunsText). In order: each run's id and its
   * worker's row, or undefined for a run whose worker does not exist (nothing
   * was written for it).
   */
  async startWorkerRuns(runs: readonly RunOfWorker[], worker: CompanionStep, alongside: CompanionStep): Promise<(StartedRun | undefined)[]> {
    const workerText = shiftPlaceholders(worker.text, START_WORKER_RUNS_VALUES);
    const text = this.compose(`start-many\n${workerText}`, alongside, (step) =>
      startWorkerRunsText(workerText, shiftPlaceholders(step, START_WORKER_RUNS_VALUES + worker.values.length)),
    );
    const rows = await this.database.rows<{ id: string | number | null; worker_id: string | number | null; worker_json: Record<string, unknown> | null }>({
      text,
      values: [
        runs.map((run) => run.workerName),
        runs.map((run) => run.runType),
        runs.map((run) => run.startTime),
        runs.map((run) => run.paramJson),
        ...worker.values,
        ...alongside.values,
      ],
    });
    // Only a worker's first run carries its row.
    const workers = new Map<string, Record<string, unknown>>();
    for (const row of rows) if (row.worker_json !== null) workers.set(String(row.worker_id), row.worker_json);
    return rows.map((row) => (row.id === null ? undefined : { id: Number(row.id), worker: workers.get(String(row.worker_id))! }));
  }

  /**
   * Records how runs ended, in one statement with `alongside` (over
   * `ended(id)`, every id given, deleted rows too): all or none of them. A row
   * deleted meanwhile stays deleted. Answers the finished records of the runs
   * marked `wanted`, capped as cappedByIds' (a row deleted meanwhile is absent).
   */
  async finishRuns(ends: readonly RunEnding[], caps: { rowBytes: number; batchBytes: number }, alongside: CompanionStep): Promise<CappedRow[]> {
    const text = this.compose('finish-many', alongside, (step) => finishRunsText(shiftPlaceholders(step, FINISH_RUNS_VALUES)));
    return this.database.rows<CappedRow>({
      text,
      values: [
        ends.map((end) => end.id),
        ends.map((end) => end.finishTime),
        ends.map((end) => end.resultJson),
        ends.map((end) => end.errorMessage),
        ends.map((end) => end.consoleJson),
        ends.map((end) => end.wanted),
        caps.rowBytes,
        caps.batchBytes,
        ...alongside.values,
      ],
    });
  }

  /**
   * Ends as failures (`message`, at `finishTime`) the running rows whose ids
   * `source` answers (a WITH part with a column `id`), in one statement; the
   * ids it ended.
   */
  async interruptRuns(source: CompanionStep, finishTime: number, message: string): Promise<string[]> {
    const text = this.compose('interrupt', source, (step) => `WITH source AS (${step}) ${interruptRunning('source', source.values.length + 1)}`);
    const rows = await this.database.rows<{ id: string | number }>({ text, values: [...source.values, finishTime, message] });
    return rows.map((row) => String(row.id));
  }

  /** A run's worker, whether it is still running, and its kept console lines; undefined when there is no such row. */
  async runConsole(id: string): Promise<{ js_worker_name: string; running: boolean; lines: string[] | null } | undefined> {
    return this.database.first({ text: RUN_CONSOLE, values: [id] });
  }

  /** The key of a worker's `n`th newest row in an outcome (1-based), if it has that many. */
  async nthNewest(worker: string, outcome: RunOutcome, n: number, on: StatementRunner = this.database): Promise<RowKey | undefined> {
    const [text, values] = this.database
      .select(JsResult, 'r')
      // Positions as decimal text, so 64-bit values stay exact (the builder maps properties in conditions, not in these).
      .select('r.start_time::text', 'start_time')
      .addSelect('r.id::text', 'id')
      .where('r.jsWorkerName = :worker', { worker })
      .andWhere(OUTCOMES[outcome].sql((property) => `r.${property}`))
      .orderBy('r.startTime', 'DESC')
      .addOrderBy('r.id', 'DESC')
      .offset(n - 1)
      .limit(1)
      .getQueryAndParameters();
    const [row] = await on.rows<{ start_time: string | null; id: string }>({ text, values });
    return row === undefined ? undefined : { startTime: row.start_time, id: row.id };
  }

  /** Deletes the next `batchSize` expired rows (see deleteExpiredBatch), with `alongside` over the deleted ids. */
  async deleteExpired(rows: ExpiredRows, batchSize: number, alongside: CompanionStep, on: StatementRunner = this.database): Promise<ExpiredBatch> {
    const [batch] = await on.rows<ExpiredBatch>(deleteExpiredBatch(rows, batchSize, alongside));
    return batch;
  }

  /** The text of statement `name` composed with another module's step, built once per statement and step (steps are constants). */
  private compose(name: string, step: CompanionStep, build: (stepText: string) => string): string {
    const key = `${name}\n${step.text}`;
    let text = this.composed.get(key);
    if (text === undefined) {
      // Run writes go out on every run: parsed once per connection.
      text = this.database.prepare(build(step.text), { named: true });
      this.composed.set(key, text);
    }
    return text;
  }
}

/**
 * Deletes the next `batchSize` rows of a worker in an outcome, in newest-first
 * order after a key, with `alongside` (a WITH part over `changed(id)`, the
 * deleted ids) in the same statement (see deleteExpiredText).
 */
export function deleteExpiredBatch(rows: ExpiredRows, batchSize: number, alongside: CompanionStep): Statement {
  // $1 worker, $2 batch size, $3 the key's id, $4 its start time (a started key only).
  const values: unknown[] = [rows.worker, batchSize, rows.after.id];
  if (rows.after.startTime !== null) values.push(rows.after.startTime);
  return {
    text: deleteExpiredText(rows.outcome, rows.after, shiftPlaceholders(alongside.text, values.length)),
    values: [...values, ...alongside.values],
  };
}
