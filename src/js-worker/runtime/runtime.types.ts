export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type HandlerName = 'onCall' | 'onCron';

export const HANDLER_NAMES: readonly HandlerName[] = ['onCall', 'onCron'];

export interface RunContext {
  run_type: string;
  js_result_id: number;
  worker_name: string;
}

export interface RunLimits {
  /** Wall-clock budget for module evaluation + handler + promise settling. Default 30000. */
  maxRunTimeMs?: number;
  /** Default 8 MiB. */
  maxHeapBytes?: number;
  /** Default 1 MiB. */
  maxStackBytes?: number;
}

export interface RunJob {
  script: string;
  handler: HandlerName;
  params: unknown;
  env: unknown;
  ctx: RunContext;
  limits?: RunLimits;
}

export type RunOutcome =
  | { ok: true; result: JsonValue; console: string[] }
  | { ok: false; error: string; console: string[] };

export type ScriptValidation = { ok: true; handlers: HandlerName[] } | { ok: false; message: string };

export interface RunnerPoolOptions {
  /** Number of worker threads. Default os.availableParallelism(). */
  size?: number;
  /** Runs allowed to wait for a free worker before run() refuses with QueueFullError. Default 1000. */
  maxQueue?: number;
  /** Validations allowed to wait before validate() refuses with QueueFullError. Default 64. */
  maxValidationQueue?: number;
  /** Threads validations may hold at once, leaving the others to runs. Default half the size, at least 1. */
  maxConcurrentValidations?: number;
  /**
   * Extra time after maxRunTimeMs before an unresponsive worker is terminated. Default 2000.
   * The in-sandbox interrupt normally ends a run first; this only catches a wedged worker
   * (a negative value lets tests make the watchdog fire first).
   */
  watchdogGraceMs?: number;
}
