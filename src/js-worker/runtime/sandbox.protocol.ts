import type { HandlerArgs } from './quickjs.sandbox';
import { resolveLimits, type ResolvedLimits } from './run-limits';
import type { HandlerName, RunJob, RunOutcome, ScriptValidation } from './runtime.types';

/** A job as it crosses into a worker: arguments already JSON text, limits already resolved. */
export interface SandboxRequest {
  script: string;
  handler: HandlerName;
  args: HandlerArgs;
  limits: ResolvedLimits;
}

/** What a worker is asked to do. */
export type WorkerJob = { kind: 'run'; request: SandboxRequest } | { kind: 'validate'; source: string };

export type WorkerInbound = WorkerJob & { id: number };

export type WorkerOutbound =
  | { kind: 'ready' }
  /** recycle: the worker's QuickJS module should not be trusted or kept any longer. */
  | { kind: 'result'; id: number; outcome: RunOutcome; recycle: boolean }
  | { kind: 'validated'; id: number; validation: ScriptValidation; recycle: boolean };

/**
 * Serialises on the caller's side so that values the sandbox could never receive (BigInt,
 * cycles) fail before a worker is involved, and so only plain strings cross thread boundaries.
 *
 * @returns the request, or an error message naming the argument that cannot be passed in.
 */
export function toSandboxRequest(job: RunJob): SandboxRequest | string {
  if (typeof job.script !== 'string') return 'script must be a string';
  const args: (string | undefined)[] = [];
  for (const [name, value] of [['params', job.params], ['env', job.env], ['ctx', job.ctx]] as const) {
    const json = toJson(value);
    if (json instanceof Error) return `${name} is not JSON-serialisable (${json.message})`;
    args.push(json);
  }
  return {
    script: job.script,
    handler: job.handler,
    args: [args[0], args[1], args[2]],
    limits: resolveLimits(job.limits),
  };
}

function toJson(value: unknown): string | undefined | Error {
  try {
    return JSON.stringify(value) as string | undefined;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}
