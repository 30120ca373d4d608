import type { HostSettings, RunHost } from './host-calls';
import type { RouteRequest, RouteResponse } from './route.types';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type HandlerName = 'onCall' | 'onCron' | 'onInlineCall' | 'onRoute';

export const HANDLER_NAMES: readonly HandlerName[] = ['onCall', 'onCron', 'onInlineCall', 'onRoute'];

/**
 * A handler's third argument: NodeGet's fields (`runType`, `workerName`, `inlineCaller`; the
 * guest adds `inlineCall`) beside this service's earlier ones (`run_type`, `js_result_id`,
 * `worker_name`), kept for scripts written against them.
 */
export interface RunContext {
  run_type: string;
  /** null for a worker route's run, which has no js_result row. */
  js_result_id: number | null;
  worker_name: string;
  runType?: HandlerName;
  workerName?: string;
  /** The calling worker's name for an inline call; null at the top. */
  inlineCaller?: string | null;
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
  /** Answers the run's injected API calls; without it they are refused. */
  host?: RunHost;
  /** Settings the sandbox thread applies itself (log level, whether fetch exists). */
  hostSettings?: HostSettings;
  /**
   * An inline call's run: queued ahead of other runs, and may start on an extra thread while
   * threads are held by runs waiting for their inline calls (see RunnerPool).
   */
  inline?: boolean;
  /** For `onRoute`: the HTTP request its Request is built from (params are then unused). */
  route?: RouteRequest;
}

export type RunOutcome =
  /** route: what an onRoute run's Response held (its result is null). */
  | { ok: true; result: JsonValue; console: string[]; route?: RouteResponse }
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
  /**
   * Threads beyond `size` that inline runs may borrow while callers wait for them (see RunnerPool).
   * Default max(8, size): a chain as deep as INLINE_CALL_MAX_DEPTH's default runs even on one thread.
   */
  maxInlineThreads?: number;
}

/** Serialised handler arguments: params, env, ctx (undefined stays undefined in the guest). */
export type HandlerArgs = readonly [string | undefined, string | undefined, string | undefined];
