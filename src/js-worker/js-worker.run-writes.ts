import { Injectable } from '@nestjs/common';
import { TurnBatcher } from '../common/turn-batcher';
import { isDatabaseUnavailable } from '../database/database.errors';
import { type CompanionStep, JsResultRepository, type RunEnd, type RunStart } from '../js-result/js-result.repository';

/** Runs written by one statement at most; the run queue bounds how many can wait anyway. */
const MAX_BATCH = 256;
/** Statements of each kind out at once; the runs arriving meanwhile go in the next one. */
const MAX_IN_FLIGHT = 2;

interface Start {
  run: RunStart;
  instanceId: number;
}

type End = RunEnd & { id: number };

/**
 * The js_result writes of js-worker_run and inline runs: a run's row as it
 * starts (with its tracking row, js_worker_active_run) and as it ends (its
 * tracking row removed), each all or nothing with its companion as before. The
 * runs starting or ending in one turn of the event loop share one statement,
 * so a busy server writes a statement per batch instead of per run (a batch
 * the database refuses is written again run by run: see TurnBatcher).
 */
@Injectable()
export class JsWorkerRunWrites {
  private readonly starts: TurnBatcher<Start, number>;
  private readonly ends: TurnBatcher<End, void>;

  constructor(private readonly results: JsResultRepository) {
    this.starts = new TurnBatcher((items) => this.startMany(items), (item) => this.results.startRun(item.run, trackedBy(item.instanceId)), {
      maxBatch: MAX_BATCH,
      maxInFlight: MAX_IN_FLIGHT,
      // A lost connection may have lost the answer to a committed statement: writing the rows again would double them.
      retryAlone: (error) => !isDatabaseUnavailable(error),
    });
    this.ends = new TurnBatcher((items) => this.finishMany(items), (item) => this.results.finishRun(item.id, item, untracked(item.id)), {
      maxBatch: MAX_BATCH,
      maxInFlight: MAX_IN_FLIGHT,
    });
  }

  /** Writes the run's row (running, tracked by instance `instanceId`); its id. */
  start(run: RunStart, instanceId: number): Promise<number> {
    return this.starts.add({ run, instanceId });
  }

  /** Records how the run ended and stops tracking it (even if its row was deleted meanwhile). */
  finish(id: number, end: RunEnd): Promise<void> {
    return this.ends.add({ ...end, id });
  }

  /** One statement per instance number in the batch (one, but for the moment the number changes). */
  private async startMany(items: Start[]): Promise<number[]> {
    const instanceId = items[0].instanceId;
    if (items.some((item) => item.instanceId !== instanceId)) throw new Error('runs of several instance numbers in one batch');
    return this.results.startRuns(items.map((item) => item.run), trackedBy(instanceId));
  }

  private async finishMany(items: End[]): Promise<void[]> {
    await this.results.finishRuns(items, UNTRACKED_ALL);
    return items.map(() => undefined);
  }
}

/** A started run's tracking row, written in the statement that writes its js_result row (`run`): this instance runs it. */
const trackedBy = (instanceId: number): CompanionStep => ({
  text: 'INSERT INTO js_worker_active_run (js_result_id, instance_id) SELECT id, $1 FROM run',
  values: [instanceId],
});

/** A finished run is no longer tracked, in the statement that records its end (even if its row was deleted meanwhile). */
const untracked = (id: number): CompanionStep => ({ text: 'DELETE FROM js_worker_active_run WHERE js_result_id = $1', values: [id] });

/** untracked for every run of a batch (finishRuns' `ended`). */
const UNTRACKED_ALL: CompanionStep = { text: 'DELETE FROM js_worker_active_run WHERE js_result_id IN (SELECT id FROM ended)', values: [] };
