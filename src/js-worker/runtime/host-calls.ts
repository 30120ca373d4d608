/**
 * What a script may ask of the main thread while it runs (the injected API), as it crosses the
 * worker port. Payloads and answers are JSON text, so only strings cross thread boundaries.
 */

/** `nodegetLog`'s levels, lowest first (its `log` is `info`). */
export const WORKER_LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type WorkerLogLevel = (typeof WORKER_LOG_LEVELS)[number];

/** WORKER_LOG_LEVEL: the lowest level kept, or `silent`. */
export type WorkerLogThreshold = WorkerLogLevel | 'silent';

export function logLevelKept(level: WorkerLogLevel, threshold: WorkerLogThreshold): boolean {
  if (threshold === 'silent') return false;
  return WORKER_LOG_LEVELS.indexOf(level) >= WORKER_LOG_LEVELS.indexOf(threshold);
}

export type HostCallKind = 'inline' | 'nodeget' | 'fetch';

/** The main thread's answer to one call: JSON text of the value, or a message the guest throws as an Error. */
export type HostAnswer = { ok: true; json: string | undefined } | { ok: false; error: string };

export interface WorkerLogLine {
  level: WorkerLogLevel;
  namespace: string;
  message: string;
}

/**
 * The main thread's side of a run: answers its calls and takes its log lines. Calls of a run whose
 * job has no host are refused ("not available").
 */
export interface RunHost {
  call(kind: HostCallKind, payload: string): Promise<HostAnswer>;
  log(line: WorkerLogLine): void;
}

/** Per-run settings the sandbox thread applies itself (no round trip to refuse or filter). */
export interface HostSettings {
  logLevel: WorkerLogThreshold;
  fetchEnabled: boolean;
}

export const NO_HOST_SETTINGS: HostSettings = Object.freeze({ logLevel: 'silent', fetchEnabled: false });

/** nodegetLog lines a run may send to the server's log; later ones are dropped. */
export const MAX_LOG_LINES_PER_RUN = 1000;
/** A longer nodegetLog message is cut to this many characters (namespace: 128). */
export const MAX_LOG_MESSAGE_CHARS = 8 * 1024;
export const MAX_LOG_NAMESPACE_CHARS = 128;
