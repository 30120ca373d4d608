export { QueueFullError, RunnerPool } from './runner.pool';
export { DEFAULT_EXPORT_MESSAGE, VALIDATION_LIMITS } from './script-validator';
export { MAX_RESULT_DEPTH } from './result-depth';
export { DEFAULT_LIMITS, LIMIT_BOUNDS } from './run-limits';
export { CONSOLE_MAX_BYTES, CONSOLE_MAX_LINES, CONSOLE_TRUNCATED_LINE } from './console.capture';
export {
  HANDLER_NAMES,
  type HandlerName,
  type JsonValue,
  type RunContext,
  type RunJob,
  type RunLimits,
  type RunnerPoolOptions,
  type RunOutcome,
  type ScriptValidation,
} from './runtime.types';
export {
  type HostAnswer,
  type HostCallKind,
  type HostSettings,
  type RunHost,
  type WorkerLogLine,
  WORKER_LOG_LEVELS,
} from './host-calls';
