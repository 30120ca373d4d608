import { Injectable } from '@nestjs/common';
import { Database } from '../database/database';
import { insertRunningRows, NEXT_RUN_ID } from '../js-result/js-result.sql';

/** One due time of one job, as the scheduler saw the job when it computed it. */
export interface DueFiring {
  id: number;
  due: number;
  /** The job's last_run_time and schedule_from as last read: the compare of the compare-and-set. */
  seenRun: number | null;
  seenFrom: number | null;
  /** Why the worker pool refused a place for the run, if it did. */
  refusal?: string;
}

/** A due time this instance claimed: its run to start (`runId`), or none, the firing being recorded as a failure. */
export interface ClaimedFiring {
  id: number;
  due: number;
  runId: number | null;
  worker: Record<string, unknown> | null;
  params: unknown;
}

/**
 * The one statement of a firing. For a batch of due times it
 *   1. claims each by a compare-and-set on its crontab row (`last_run_time`
 *      and `schedule_from` as the scheduler last read them, and `enable`),
 *      taking the rows in id order and skipping rows another instance is
 *      claiming at this moment (`FOR UPDATE SKIP LOCKED`: no waiting on, and
 *      no deadlock with, another instance's batch); the row locks last only
 *      for this statement, never across a run;
 *   2. for each claimed job whose worker exists and for which the pool gave a
 *      place, writes the js_result row (running, run_type "cron") and its
 *      js_worker_active_run row, as js-worker_run does, with an id taken
 *      from js_result's sequence so that the firing record can name it;
 *   3. appends the firing record to crontab_result, naming the run or saying
 *      why there is none.
 * One statement is one transaction on both backends: a crash leaves all of a
 * firing or none of it. A run whose process dies after the commit is a
 * js_result left running by a dead instance, which the surviving instances
 * finish as "interrupted: server restarted" (JsWorkerInstance).
 */
const FIRE = `
WITH due AS (
  SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[])
    AS d(id, due, seen_run, seen_from, refusal)
), locked AS (
  SELECT c.id, d.due, d.refusal
  FROM crontab c JOIN due d ON d.id = c.id
  WHERE c.enable AND c.last_run_time IS NOT DISTINCT FROM d.seen_run AND c.schedule_from IS NOT DISTINCT FROM d.seen_from
  ORDER BY c.id
  FOR UPDATE OF c SKIP LOCKED
), claimed AS (
  UPDATE crontab c SET last_run_time = l.due FROM locked l WHERE c.id = l.id
  RETURNING c.id, c.name, c.cron_type, l.due, l.refusal
), planned AS (
  SELECT cl.id, cl.name, cl.due, cl.refusal,
    cl.cron_type -> 'server' -> 'js_worker' ->> 0 AS wanted,
    NULLIF(cl.cron_type -> 'server' -> 'js_worker' -> 1, 'null'::jsonb) AS params,
    w.id AS worker_id, w.name AS worker_name, to_jsonb(w) AS worker,
    CASE WHEN w.id IS NOT NULL AND cl.refusal IS NULL THEN ${NEXT_RUN_ID} END AS run_id
  FROM claimed cl LEFT JOIN js_worker w ON w.name = cl.cron_type -> 'server' -> 'js_worker' ->> 0
), started AS (
  ${insertRunningRows({ id: 'run_id', workerId: 'worker_id', workerName: 'worker_name', runType: "'cron'", startTime: '$6', param: 'params', source: 'planned WHERE run_id IS NOT NULL' })}
), tracked AS (
  INSERT INTO js_worker_active_run (js_result_id, instance_id) SELECT run_id, $7 FROM planned WHERE run_id IS NOT NULL
), recorded AS (
  INSERT INTO crontab_result (cron_id, cron_name, run_time, relative_id, success, message)
  SELECT id, name, due, run_id, run_id IS NOT NULL,
    CASE
      WHEN run_id IS NOT NULL THEN 'started js_worker ' || worker_name || ': js_result ' || run_id
      WHEN worker_id IS NULL THEN 'js_worker not found: ' || coalesce(wanted, '(none)')
      ELSE 'js_worker ' || worker_name || ' could not start: ' || refusal
    END
  FROM planned
)
SELECT id, due, run_id, CASE WHEN run_id IS NOT NULL THEN worker END AS worker, params FROM planned`;

/** Writes firings: the claim, the run's row and the firing record, in one statement. */
@Injectable()
export class CrontabFirings {
  constructor(private readonly db: Database) {}

  async fire(batch: readonly DueFiring[], now: number, ownerId: number): Promise<ClaimedFiring[]> {
    const column = <T>(pick: (f: DueFiring) => T) => batch.map(pick);
    const text = (value: number | null) => (value === null ? null : String(value));
    const rows = await this.db.rows({
      text: FIRE,
      values: [
        column((f) => String(f.id)),
        column((f) => String(f.due)),
        column((f) => text(f.seenRun)),
        column((f) => text(f.seenFrom)),
        column((f) => f.refusal ?? null),
        now,
        ownerId,
      ],
    });
    return rows.map((row) => ({
      id: Number(row.id),
      due: Number(row.due),
      runId: row.run_id === null ? null : Number(row.run_id),
      worker: (row.worker as Record<string, unknown> | null) ?? null,
      params: row.params ?? null,
    }));
  }
}
