import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, DEFAULT_WORKER_API_SETTINGS, type WorkerApiSettings } from '../config/app.config';
import { replyBytes } from '../json-rpc/json-rpc.codec';
import { JsonRpcDispatcher } from '../json-rpc/json-rpc.dispatcher';
import { type Auth, canUseWorker } from '../token/auth';
import { WorkerFetch } from './js-worker.fetch';
import type { HostAnswer, HostCallKind, HostSettings, RunHost, RunOutcome, WorkerLogLine } from './runtime';

/** nodeget() calls one run may make; past it each is refused. */
export const NODEGET_MAX_CALLS_PER_RUN = 1000;

/** One run as its injected API sees it. */
export interface HostedRun {
  readonly workerName: string;
  /** null for a worker route's run, which has no row. */
  readonly jsResultId: number | null;
  /**
   * The token of the js-worker_run call that started the chain, which its inline calls are held
   * to; undefined for runs the server starts on its own (cron schedules).
   */
  readonly auth: Auth | undefined;
  /** The request id of the call that started the chain, for the lines its runs log; none for server-started runs. */
  readonly requestId?: string;
  /** 0 for a run started from outside, n for the n-th inline call down a chain. */
  readonly depth: number;
  /** Shared by a top-level run and every inline run under it. */
  readonly chain: { inlineCalls: number };
}

/** Runs a stored worker as an inline call of `caller` (writes its js_result row); DomainErrors for refusals. */
export type InlineRunner = (name: string, params: unknown, timeoutMs: number | undefined, caller: HostedRun) => Promise<RunOutcome>;

interface InlineRequest {
  name: string;
  params?: unknown;
  timeout_sec: number | null;
}

/** The Nest logger's method for each nodegetLog level (nestjs-pino writes `verbose` as pino's trace). */
const LOGGER_METHODS = { trace: 'verbose', debug: 'debug', info: 'log', warn: 'warn', error: 'error' } as const;

/**
 * The main thread's side of the injected API: answers a run's inlineCall, nodeget() and fetch
 * calls and writes its nodegetLog lines. Every refusal is a message the script gets as an Error.
 */
@Injectable()
export class JsWorkerHost {
  private readonly logger = new Logger('js_worker');
  private readonly api: WorkerApiSettings;
  readonly settings: HostSettings;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly dispatcher: JsonRpcDispatcher,
    private readonly fetcher: WorkerFetch,
  ) {
    this.api = config.workerApi ?? DEFAULT_WORKER_API_SETTINGS;
    this.settings = { logLevel: this.api.logLevel, fetchEnabled: this.api.fetchAllow.length > 0 };
  }

  forRun(run: HostedRun, inline: InlineRunner): RunHost {
    const usage = { nodegetCalls: 0, replyBytes: 0, fetch: this.fetcher.budget() };
    const answer = (kind: HostCallKind, payload: string): Promise<HostAnswer> => {
      switch (kind) {
        case 'inline':
          return this.inlineCall(run, payload, inline);
        case 'nodeget':
          return this.nodeget(run, payload, usage);
        case 'fetch':
          return this.fetcher.fetch(payload, usage.fetch);
      }
    };
    return { call: answer, log: (line) => this.log(run, line) };
  }

  private async inlineCall(run: HostedRun, payload: string, inline: InlineRunner): Promise<HostAnswer> {
    const request = JSON.parse(payload) as InlineRequest;
    const refusal = this.inlineRefusal(run, request.name);
    if (refusal !== undefined) return { ok: false, error: `inlineCall: ${refusal}` };
    run.chain.inlineCalls++;
    const timeoutMs = request.timeout_sec === null ? undefined : request.timeout_sec * 1000;
    let outcome: RunOutcome;
    try {
      outcome = await inline(request.name, request.params, timeoutMs, run);
    } catch (error) {
      return { ok: false, error: `inlineCall: ${error instanceof Error ? error.message : String(error)}` };
    }
    // The callee's own message, as NodeGet gives it.
    return outcome.ok ? { ok: true, json: JSON.stringify(outcome.result) } : { ok: false, error: outcome.error };
  }

  private inlineRefusal(run: HostedRun, name: string): string | undefined {
    const { inlineCallMaxDepth: maxDepth, inlineCallMaxPerRun: maxCalls } = this.api;
    if (run.depth + 1 > maxDepth) {
      return `too deep: '${run.workerName}' calling '${name}' would make a chain of ${run.depth + 1} inline calls; at most ${maxDepth} are allowed (INLINE_CALL_MAX_DEPTH)`;
    }
    if (run.chain.inlineCalls >= maxCalls) {
      return `too many: this run and its inline calls have made ${run.chain.inlineCalls} inline calls, the most allowed (INLINE_CALL_MAX_PER_RUN)`;
    }
    if (run.auth !== undefined && !canUseWorker(run.auth, 'run_defined_js_worker', name)) {
      return `permission denied: the token that started this run may not run worker '${name}' (RunDefinedJsWorker)`;
    }
    return undefined;
  }

  /** The same dispatcher, pipeline and budgets as a call over HTTP; the token is the one in the params. */
  private async nodeget(run: HostedRun, text: string, usage: { nodegetCalls: number; replyBytes: number }): Promise<HostAnswer> {
    if (usage.nodegetCalls >= NODEGET_MAX_CALLS_PER_RUN) {
      return { ok: false, error: `nodeget: this run has made ${NODEGET_MAX_CALLS_PER_RUN} calls, the most one run may make` };
    }
    usage.nodegetCalls++;
    const reply = await this.dispatcher.handle(text, { peer: `js-worker:${run.workerName}` });
    if (reply === undefined) return { ok: true, json: 'null' };
    const bytes = replyBytes(reply);
    // Refused, not delivered: the reply was written within the request's budget, but the run's is spent.
    const allowed = this.api.nodegetMaxReplyBytesPerRun;
    if (usage.replyBytes + bytes > allowed) {
      return {
        ok: false,
        error: `nodeget: the reply is ${bytes} bytes; with the ${usage.replyBytes} bytes this run already received it would pass ${allowed}, the most one run may receive`,
      };
    }
    usage.replyBytes += bytes;
    return { ok: true, json: typeof reply === 'string' ? reply : reply.toString('utf8') };
  }

  /** Already filtered by WORKER_LOG_LEVEL and capped on the sandbox thread. */
  private log(run: HostedRun, line: WorkerLogLine): void {
    const fields = { worker: run.workerName, namespace: line.namespace, js_result_id: run.jsResultId, ...(run.requestId === undefined ? {} : { reqId: run.requestId }) };
    this.logger[LOGGER_METHODS[line.level]](fields, line.message);
  }
}
