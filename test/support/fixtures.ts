import type { JsResult } from '../../src/js-result/js-result.entity';
import type { ModelRow } from './js-result.model';
import type { SeedRow } from './test-app';

/** The limits the seed page's `demo_token` needs: read and delete on demo_* workers. */
export const DEMO_LIMITS = [
  {
    scopes: [{ js_worker: 'demo_*' }],
    permissions: [{ js_result: { read: 'demo_*' } }, { js_result: { delete: 'demo_*' } }],
  },
];

export function toModelRow(row: JsResult): ModelRow {
  return {
    id: row.id,
    js_worker_id: row.jsWorkerId,
    js_worker_name: row.jsWorkerName,
    run_type: row.runType,
    start_time: row.startTime,
    finish_time: row.finishTime,
    param: row.param ?? null,
    result: row.result ?? null,
    error_message: row.errorMessage,
  };
}

const T0 = 1_775_000_000_000;

/**
 * A small varied table: several workers (including names with `_`, `%` and a
 * look-alike of demo_*), every state, run types, equal start times (the id
 * decides) and not-started rows.
 */
export function variedRows(): SeedRow[] {
  const workers = ['demo_worker', 'demo_other', 'demoXworker', 'prod_api', 'w_1', 'w%1', 'wA1'];
  const runTypes = ['call', 'inline_call', 'cron', 'route'];
  const rows: SeedRow[] = [];
  for (let i = 0; i < 84; i++) {
    const worker = workers[i % workers.length];
    const state = i % 4; // 0,1 success, 2 failure, 3 running
    const notStarted = i % 13 === 5;
    const start = notStarted ? null : T0 + Math.floor(i / 3) * 1000; // triples share a start time
    rows.push({
      jsWorkerName: worker,
      jsWorkerId: workers.indexOf(worker) + 10,
      runType: runTypes[i % runTypes.length],
      startTime: start,
      finishTime: start === null || state === 3 ? null : start + 100 + i,
      param: { i, hello: 'world' },
      result: state <= 1 ? { ok: true, i } : null,
      errorMessage: state === 2 ? `boom ${i}` : null,
    });
  }
  return rows;
}

export { T0 };

/** Two workers, three results: what the transport suites query over HTTP and WebSocket alike. */
export const TWO_WORKERS: SeedRow[] = [
  { jsWorkerName: 'a', startTime: T0, result: 1 },
  { jsWorkerName: 'a', startTime: T0 + 1, result: 2 },
  { jsWorkerName: 'b', startTime: T0 + 2, result: 3 },
];
