import type { JsWorker } from './js-worker.entity';
import { effectiveLimit, encodeScript } from './js-worker.rules';

/**
 * A JS worker as `js-worker_create` returns it: NodeGet's fields and names
 * (`create_at` / `update_at`, ms), without the script and env. Limits are the
 * ones its runs get: its own, or the default when it has none (max_run_time
 * in ms, sizes in bytes), where NodeGet shows null for "the default".
 */
export interface JsWorkerSummary {
  id: number;
  name: string;
  description: string | null;
  route_name: string | null;
  runtime_clean_time: number | null;
  max_run_time: number;
  max_stack_size: number;
  max_heap_size: number;
  create_at: number;
  update_at: number;
}

/** A JS worker as `js-worker_read` and `_update` return it: the summary with its script and env. */
export interface JsWorkerRecord extends JsWorkerSummary {
  js_script_base64: string;
  env: Record<string, unknown>;
}

export interface RunConsoleRecord {
  id: number | bigint;
  js_worker_name: string;
  /** False while the run is still going: its console is kept when it ends. */
  finished: boolean;
  /** `[level] text` lines, at most CONSOLE_MAX_LINES / CONSOLE_MAX_BYTES, then `[truncated]`. */
  lines: string[];
}

export function toWorkerSummary(worker: JsWorker): JsWorkerSummary {
  return {
    id: worker.id,
    name: worker.name,
    description: worker.description,
    route_name: worker.routeName,
    runtime_clean_time: worker.runtimeCleanTime,
    max_run_time: effectiveLimit('maxRunTime', worker.maxRunTime),
    max_stack_size: effectiveLimit('maxStackSize', worker.maxStackSize),
    max_heap_size: effectiveLimit('maxHeapSize', worker.maxHeapSize),
    create_at: worker.createdAt,
    update_at: worker.updatedAt,
  };
}

export function toWorkerRecord(worker: JsWorker): JsWorkerRecord {
  return { ...toWorkerSummary(worker), js_script_base64: encodeScript(worker.jsScript), env: worker.env ?? {} };
}
