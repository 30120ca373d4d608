import { Inject, Injectable } from '@nestjs/common';
import { TurnBatcher } from '../common/turn-batcher';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { isDatabaseUnavailable } from '../database/database.errors';
import {
  type CappedRow,
  type CompanionStep,
  JsResultRepository,
  type RunEnd,
  type RunEnding,
  type RunOfWorker,
  type StartedRun,
} from '../js-result/js-result.repository';
import { JsWorkerRepository } from './js-worker.repository';

/** Runs written by one statement at most; the run queue bounds how many can wait anyway. */
const MAX_BATCH = 256;
/**
 * Statements of each kind out at once; the runs arriving meanwhile go in the next one. One: the
 * batches then grow with the load, and fewer, larger commits cost the database less per run than
 * two smaller ones in flight (bench/results/runs/REPORT.md).
 */
const MAX_IN_FLIGHT = 1;

interface Start {
  run: RunOfWorker;
  instanceId: number;
}

/**
 * The js_result writes of js-worker_run and inline runs: a run's row as it
 * starts (with its tracking row, js_worker_active_run, and its worker read in
 * the same statement) and as it ends (its tracking row removed, its finished
 * record read back when someone waits for it), each all or nothing with its
 * companion as before. The runs starting or ending in one turn of the event
 * loop share one statement, so a busy server writes a statement per batch
 * instead of per run (a batch the database refuses is written again run by
 * run: see TurnBatcher).
 */
@Injectable()
export class JsWorkerRunWrites {
  private readonly starts: TurnBatcher<Start, StartedRun | undefined>;
  private readonly ends: TurnBatcher<RunEnding, CappedRow | undefined>;
  /** What one finish statement may read back: as much as one call's reply may take, as the waits' own reads. */
  private readonly readBack: { rowBytes: number; batchBytes: number };

  constructor(
    private readonly results: JsResultRepository,
    private readonly workers: JsWorkerRepository,
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'responses'>,
  ) {
    const cap = config.responses.maxCallResponseBytes;
    this.readBack = { rowBytes: cap, batchBytes: cap };
    this.starts = new TurnBatcher(
      (items) => this.startMany(items),
      async (item) => (await this.startMany([item]))[0],
      {
        maxBatch: MAX_BATCH,
        maxInFlight: MAX_IN_FLIGHT,
        // A lost connection may have lost the answer to a committed statement: writing the rows again would double them.
        retryAlone: (error) => !isDatabaseUnavailable(error),
      },
    );
    this.ends = new TurnBatcher(
      (items) => this.finishMany(items),
      async (item) => (await this.finishMany([item]))[0],
      { maxBatch: MAX_BATCH, maxInFlight: MAX_IN_FLIGHT },
    );
  }

  /**
   * Writes the run's row (running, tracked by instance `instanceId`) if its
   * worker exists: its id and the worker's row as read then; undefined when
   * there is no such worker (nothing written).
   */
  start(run: RunOfWorker, instanceId: number): Promise<StartedRun | undefined> {
    return this.starts.add({ run, instanceId });
  }

  /**
   * Records how the run ended and stops tracking it (even if its row was
   * deleted meanwhile). When `wanted`, answers the finished record as stored
   * (undefined if the row is gone, or did not fit what one read may take).
   */
  finish(id: number, end: RunEnd, wanted: boolean): Promise<CappedRow | undefined> {
    return this.ends.add({ ...end, id, wanted });
  }

  /** One statement per instance number in the batch (one, but for the moment the number changes). */
  private async startMany(items: Start[]): Promise<(StartedRun | undefined)[]> {
    const instanceId = items[0].instanceId;
    if (items.some((item) => item.instanceId !== instanceId)) throw new Error('runs of several instance numbers in one batch');
    const runs = items.map((item) => item.run);
    return this.results.startWorkerRuns(runs, this.workers.byNamesStep(runs.map((run) => run.workerName)), trackedBy(instanceId));
  }

  private async finishMany(items: RunEnding[]): Promise<(CappedRow | undefined)[]> {
    const rows = await this.results.finishRuns(items, this.readBack, UNTRACKED_ALL);
    const byId = new Map(rows.map((row) => [String(row.id), row]));
    return items.map((item) => byId.get(String(item.id)));
  }
}

/** A started run's tracking row, written in the statement that writes its js_result row (`run`): this instance runs it. */
const trackedBy = (instanceId: number): CompanionStep => ({
  text: 'INSERT INTO js_worker_active_run (js_result_id, instance_id) SELECT id, $1 FROM run',
  values: [instanceId],
});

/** A finished run is no longer tracked, in the statement that records its end (even if its row was deleted meanwhile). */
const UNTRACKED_ALL: CompanionStep = { text: 'DELETE FROM js_worker_active_run WHERE js_result_id IN (SELECT id FROM ended)', values: [] };
