import type { JsWorker } from './js-worker.entity';
import { effectiveLimit, encodeScript } from './js-worker.rules';

/**
 * A JS worker as it goes on the wire. Limits are the ones its runs get: its
 * own, or the default when it has none (max_run_time in ms, sizes in bytes).
 */
export interface JsWorkerRecord {
  id: number;
  name: string;
  description: string | null;
  js_script_base64: string;
  env: Record<string, unknown>;
  max_run_time: number;
  max_stack_size: number;
  max_heap_size: number;
  created_at: number;
  updated_at: number;
}

export interface RunConsoleRecord {
  id: number | bigint;
  js_worker_name: string;
  /** False while the run is still going: its console is kept when it ends. */
  finished: boolean;
  /** `[level] text` lines, at most CONSOLE_MAX_LINES / CONSOLE_MAX_BYTES, then `[truncated]`. */
  lines: string[];
}

export function toWorkerRecord(worker: JsWorker): JsWorkerRecord {
  return {
    id: worker.id,
    name: worker.name,
    description: worker.description,
    js_script_base64: encodeScript(worker.jsScript),
    env: worker.env ?? {},
    max_run_time: effectiveLimit('maxRunTime', worker.maxRunTime),
    max_stack_size: effectiveLimit('maxStackSize', worker.maxStackSize),
    max_heap_size: effectiveLimit('maxHeapSize', worker.maxHeapSize),
    created_at: worker.createdAt,
    updated_at: worker.updatedAt,
  };
}
