import { type HostAnswer, type HostCallKind, type HostSettings, NO_HOST_SETTINGS, type WorkerLogLine } from './host-calls';
import { resolveLimits, type ResolvedLimits } from './run-limits';
import type { RouteRequest } from './route.types';
import type { HandlerArgs, HandlerName, RunJob, RunOutcome, ScriptValidation } from './runtime.types';

/** A job as it crosses into a worker: arguments already JSON text, limits already resolved. */
export interface SandboxRequest {
  script: string;
  handler: HandlerName;
  args: HandlerArgs;
  limits: ResolvedLimits;
  /** Whether the main thread answers this run's host calls; without, the sandbox refuses them. */
  hosted: boolean;
  host: HostSettings;
  /** For onRoute: the Request's method, URL and headers as JSON text, and its body. */
  route?: SandboxRoute;
}

export interface SandboxRoute {
  init: string;
  body: Uint8Array;
}

/** What a worker is asked to do. */
export type WorkerJob = { kind: 'run'; request: SandboxRequest } | { kind: 'validate'; source: string };

/** The main thread's answer to a host call of job `id`. */
export interface HostCallAnswer {
  kind: 'answer';
  id: number;
  callId: number;
  answer: HostAnswer;
}

export type WorkerInbound = (WorkerJob & { id: number }) | HostCallAnswer;

export type WorkerOutbound =
  | { kind: 'ready' }
  /** recycle: the worker's QuickJS module should not be trusted or kept any longer. */
  | { kind: 'result'; id: number; outcome: RunOutcome; recycle: boolean }
  | { kind: 'validated'; id: number; validation: ScriptValidation; recycle: boolean }
  /** A host call of the running job `id` (inlineCall, nodeget, fetch); answered by a HostCallAnswer. */
  | { kind: 'call'; id: number; callId: number; call: HostCallKind; payload: string }
  /** A nodegetLog line of the running job `id`, already filtered by level. */
  | { kind: 'log'; id: number; line: WorkerLogLine };

/**
 * Serialises on the caller's side so that values the sandbox could never receive (BigInt,
 * cycles) fail before a worker is involved, and so only plain strings cross thread boundaries.
 *
 * @returns the request, or an error message naming the argument that cannot be passed in.
 */
export function toSandboxRequest(job: RunJob): SandboxRequest | string {
  if (typeof job.script !== 'string') return 'script must be a string';
  const args: (string | undefined)[] = [];
  // NodeGet's names for the context are derived here, so every caller gets them alike.
  const ctx = { ...job.ctx, runType: job.handler, workerName: job.ctx.worker_name, inlineCaller: job.ctx.inlineCaller ?? null };
  for (const [name, value] of [['params', job.params], ['env', job.env], ['ctx', ctx]] as const) {
    const json = toJson(value);
    if (json instanceof Error) return `${name} is not JSON-serialisable (${json.message})`;
    args.push(json);
  }
  return {
    script: job.script,
    handler: job.handler,
    args: [args[0], args[1], args[2]],
    limits: resolveLimits(job.limits),
    hosted: job.host !== undefined,
    host: job.hostSettings ?? NO_HOST_SETTINGS,
    ...(job.route === undefined ? {} : { route: toSandboxRoute(job.route) }),
  };
}

function toSandboxRoute({ method, url, headers, body }: RouteRequest): SandboxRoute {
  return { init: JSON.stringify({ method, url, headers }), body };
}

function toJson(value: unknown): string | undefined | Error {
  try {
    return JSON.stringify(value) as string | undefined;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}
