import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { AuditAction } from '../database/audited-change';
import { DomainError, DomainErrorCode, notFoundInDatabase } from '../common/domain.error';
import { findUnstorableValue, toStorableText } from '../common/storable-text';
import { isDatabaseUnavailable, isUniqueViolation } from '../database/database.errors';
import { stringifyJson } from '../json-rpc/json-rpc.codec';
import { type Auth, canAccessWorker, canUseWorker } from '../token/auth';
import type { JsWorkerAction } from '../token/token-limit';
import { type CappedRow, JsResultRepository } from '../js-result/js-result.repository';
import { LocalRuns } from '../result-events/local-runs.registry';
import { JsWorker } from './js-worker.entity';
import { type HostedRun, JsWorkerHost } from './js-worker.host';
import { JsWorkerInstance } from './js-worker.instance';
import type { CreateWorkerParamsDto, RunConsoleParamsDto, RunWorkerParamsDto, UpdateWorkerParamsDto } from './js-worker.params';
import { type JsWorkerRecord, type JsWorkerSummary, type RunConsoleRecord, toWorkerRecord, toWorkerSummary } from './js-worker.record';
import { JsWorkerRepository, type WorkerChanges, workerFromRow } from './js-worker.repository';
import { checkRouteName, checkRuntimeCleanTime, routeNameTaken } from './js-worker.route-name';
import { routeRequestFromParams, routeRunResult } from './js-worker.route-params';
import { JsWorkerRoutes, type RouteRunOutcome } from './js-worker.routes';
import type { RouteRequest } from './runtime/route.types';
import {
  checkLimits,
  checkStorable,
  checkWorkerName,
  decodeScript,
  notAcceptable,
  runLimits,
} from './js-worker.rules';
import { JsWorkerRunner, type RunTicket } from './js-worker.runner';
import { JsWorkerRunWrites } from './js-worker.run-writes';
import type { HandlerName, RunJob, RunLimits, RunOutcome } from './runtime';

export const SHUTDOWN_MESSAGE = 'interrupted: server shut down';
const POOL_CLOSED = 'runner pool closed';

const ACTION_NAMES: Record<JsWorkerAction, string> = {
  create: 'Create',
  read: 'Read',
  write: 'Write',
  delete: 'Delete',
  run_defined_js_worker: 'RunDefinedJsWorker',
  list_all_js_worker: 'ListAllJsWorker',
};

/** How long to wait between attempts to record a finished run while the database is away. */
const RECORD_RETRY_MS = [500, 1_000, 2_000, 5_000, 10_000, 30_000];

/** JSON text for a jsonb parameter, exact for 64-bit integers (they arrive as BigInt). */
const jsonb = (value: unknown) => stringifyJson(value);

/** What a script is handed: plain JSON values (a BigInt becomes the nearest number, as JSON.parse would make it). */
const forSandbox = (value: unknown) => (value === undefined ? undefined : JSON.parse(stringifyJson(value)));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * Stored JS workers and their runs. Every method takes the caller's Auth
 * explicitly. Permission is checked before existence, so a caller without
 * permission cannot learn which worker names exist.
 */
@Injectable()
export class JsWorkerService implements OnModuleDestroy {
  private readonly logger = new Logger(JsWorkerService.name);
  /** Runs started by this process whose outcome is not recorded yet. */
  private readonly inFlight = new Set<Promise<void>>();
  private closing = false;

  constructor(
    private readonly workers: JsWorkerRepository,
    private readonly runner: JsWorkerRunner,
    private readonly instance: JsWorkerInstance,
    private readonly routes: JsWorkerRoutes,
    private readonly host: JsWorkerHost,
    private readonly results: JsResultRepository,
    private readonly runWrites: JsWorkerRunWrites,
    private readonly localRuns: LocalRuns,
  ) {}

  async create(input: CreateWorkerParamsDto, auth: Auth, action: AuditAction): Promise<JsWorkerSummary> {
    checkWorkerName(input.name);
    this.authorise(auth, 'create', input.name);
    const limits = checkLimits(input.limits);
    const routeName = checkRouteName(input.routeName) ?? null;
    const runtimeCleanTime = checkRuntimeCleanTime(input.runtimeCleanTime) ?? null;
    checkStorable('description', input.description);
    checkStorable('env', input.env);
    const source = await this.checkedScript(input.scriptBase64);
    try {
      const worker = await this.changing(
        this.workers.insert(
          {
            name: input.name,
            description: input.description ?? null,
            jsScript: source,
            env: input.env,
            maxRunTime: limits.maxRunTime ?? null,
            maxStackSize: limits.maxStackSize ?? null,
            maxHeapSize: limits.maxHeapSize ?? null,
            routeName,
            runtimeCleanTime,
          },
          Date.now(),
          action,
        ),
      );
      return toWorkerSummary(worker);
    } catch (err) {
      if (isUniqueViolation(err)) throw clash(err, input.name, routeName);
      throw err;
    }
  }

  async read(name: string, auth: Auth): Promise<JsWorkerRecord> {
    this.authorise(auth, 'read', name);
    return toWorkerRecord(await this.find(name));
  }

  /** Changes the given fields; a run already under way finishes on the code it started with. */
  async update(input: UpdateWorkerParamsDto, auth: Auth, action: AuditAction): Promise<JsWorkerRecord & { success: true }> {
    this.authorise(auth, 'write', input.name);
    const limits = checkLimits(input.limits);
    const routeName = checkRouteName(input.routeName);
    const runtimeCleanTime = checkRuntimeCleanTime(input.runtimeCleanTime);
    checkStorable('description', input.description);
    checkStorable('env', input.env);
    const source = input.scriptBase64 === undefined ? undefined : await this.checkedScript(input.scriptBase64);
    const changes: WorkerChanges = {
      description: input.description,
      jsScript: source,
      env: input.env,
      maxRunTime: limits.maxRunTime,
      maxStackSize: limits.maxStackSize,
      maxHeapSize: limits.maxHeapSize,
      routeName,
      runtimeCleanTime,
      updatedAt: Date.now(),
    };
    let worker: JsWorker | undefined;
    try {
      worker = await this.changing(this.workers.update(input.name, changes, action));
    } catch (err) {
      if (isUniqueViolation(err)) throw clash(err, input.name, routeName ?? null);
      throw err;
    }
    if (worker === undefined) throw notFound(input.name);
    // NodeGet's update answers `success: true` beside the worker's fields.
    return { success: true, ...toWorkerRecord(worker) };
  }

  /** Deletes the worker; the results of its runs stay, and runs under way finish. */
  async delete(name: string, auth: Auth, action: AuditAction): Promise<{ success: true }> {
    this.authorise(auth, 'delete', name);
    if (!(await this.changing(this.workers.delete(name, action)))) throw notFound(name);
    return { success: true };
  }

  /** Awaits a change of js_worker (it writes its own audit entry when it changes a row). */
  private async changing<T>(change: Promise<T>): Promise<T> {
    try {
      return await change;
    } finally {
      // Whatever happened (a failure may follow a commit), routes read the worker again.
      this.routes.forget();
    }
  }

  /** The names of the stored workers the caller may list, in byte order. */
  async listAll(auth: Auth): Promise<string[]> {
    if (auth.kind === 'limited' && !auth.limits.some((limit) => limit.jsWorker.has('list_all_js_worker'))) return [];
    return (await this.workers.names()).filter((name) => canUseWorker(auth, 'list_all_js_worker', name));
  }

  /**
   * Writes the js_result row (running) and returns its id at once; the script
   * runs on a sandbox thread and its outcome is recorded when it ends. A full
   * queue is refused before anything is written. `requestId` is the call's,
   * carried by the lines the run logs after the call is answered.
   */
  async run(input: RunWorkerParamsDto, auth: Auth, requestId?: string): Promise<{ id: number }> {
    this.authorise(auth, 'run_defined_js_worker', input.name);
    const { ticket, id, worker } = await this.startRow(input.name, input.runType, input.params);
    const route = input.runType === 'route' ? routeRequestFromParams(input.params as Record<string, unknown>) : undefined;
    const outcome = this.runner.start(ticket, {
      ...this.job(worker, HANDLERS[input.runType], { run_type: input.runType, js_result_id: id }, route === undefined ? input.params : undefined),
      route,
      env: forSandbox({ ...worker.env, ...input.env }),
      ...this.hosted(worker.name, id, auth, undefined, requestId),
    });
    this.recordWhenDone(id, worker.name, route === undefined ? outcome : outcome.then(storedRouteOutcome), requestId);
    return { id };
  }

  /** For the crontab scheduler: a place in the run queue, or 108 when it is full (see JsWorkerRunner.admit). */
  admitRun(): RunTicket {
    return this.runner.admit();
  }

  /** Gives back a place admitRun took, for a run that will not happen. */
  cancelRun(ticket: RunTicket): void {
    this.runner.cancel(ticket);
  }

  /** The number this instance tracks its runs under in js_worker_active_run (103 while the database is away). */
  runOwnerId(): Promise<number> {
    return this.instance.currentId();
  }

  /**
   * Starts a scheduled run whose js_result row (running) and js_worker_active_run
   * row were written by the caller's own statement, with the worker's row as it
   * read it there; the outcome is recorded as js-worker_run's is.
   */
  startRecorded(ticket: RunTicket, id: number, workerRow: Record<string, unknown>, params: unknown): void {
    const worker = workerFromRow(workerRow);
    const outcome = this.runner.start(ticket, {
      ...this.job(worker, 'onCron', { run_type: 'cron', js_result_id: id }, params),
      ...this.hosted(worker.name, id, undefined),
    });
    this.recordWhenDone(id, worker.name, outcome);
  }

  /**
   * A script's inlineCall: runs the worker's onInlineCall in its own sandbox with its own limits
   * (its max_run_time cut to the caller's timeout, if shorter), under a js_result row of
   * run_type `inline_call`, and resolves with the outcome as soon as the run ends (the row is
   * recorded as any run's). Refusals (missing worker, params PostgreSQL cannot store, a full
   * queue) throw DomainErrors before any row is written.
   */
  async runInline(name: string, params: unknown, timeoutMs: number | undefined, caller: HostedRun): Promise<RunOutcome> {
    const { ticket, id, worker } = await this.startRow(name, 'inline_call', params);
    const job = this.job(worker, 'onInlineCall', { run_type: 'inline_call', js_result_id: id, inlineCaller: caller.workerName }, params);
    if (timeoutMs !== undefined) job.limits.maxRunTimeMs = Math.max(1, Math.min(job.limits.maxRunTimeMs, Math.ceil(timeoutMs)));
    const outcome = this.runner.start(ticket, { ...job, ...this.hosted(worker.name, id, caller.auth, caller), inline: true });
    this.recordWhenDone(id, worker.name, outcome, caller.requestId);
    return outcome;
  }

  /**
   * A worker route's request (src/worker-route/): the worker's onRoute with the request, within
   * its limits, with the injected API as a scheduled run has it (no token: the caller is
   * anonymous). Nothing is written: NodeGet keeps no js_result row for route runs. Throws the
   * runner's refusal (108) when its queue is full or the server is shutting down.
   */
  async runRoute(worker: JsWorker, request: RouteRequest, requestId?: string): Promise<RouteRunOutcome> {
    const ticket = this.runner.admit();
    const outcome = await this.runner.start(ticket, {
      ...this.job(worker, 'onRoute', { run_type: 'route', js_result_id: null }, undefined),
      route: request,
      ...this.hosted(worker.name, null, undefined, undefined, requestId),
    });
    if (!outcome.ok) return { ok: false, error: outcome.error };
    if (outcome.route === undefined) return { ok: false, error: 'onRoute returned no Response' };
    return { ok: true, response: outcome.route };
  }

  /** What every run of a stored worker starts from: its script, stored env and limits, and the handler's input. */
  private job(
    worker: JsWorker,
    handler: HandlerName,
    { run_type, js_result_id, ...caller }: Omit<RunJob['ctx'], 'worker_name'>,
    params: unknown,
  ): RunJob & { limits: Required<RunLimits> } {
    return {
      script: worker.jsScript,
      handler,
      params: forSandbox(params),
      env: forSandbox(worker.env),
      ctx: { run_type, js_result_id, worker_name: worker.name, ...caller },
      limits: runLimits(worker),
    };
  }

  /**
   * Records the run's end when it comes; shutdown waits for every record still in flight. Until
   * then the run is listed as this process's (LocalRuns), so js-result_wait need not read its row.
   */
  private recordWhenDone(id: number, workerName: string, outcome: Promise<RunOutcome>, requestId?: string): void {
    this.localRuns.started(id, workerName);
    const recorded = outcome.then(async (o) => {
      const wanted = this.localRuns.ending(id);
      let row: CappedRow | undefined;
      try {
        row = await this.record(id, o, wanted, requestId);
      } finally {
        this.localRuns.ended(id, row);
      }
    });
    this.inFlight.add(recorded);
    void recorded.finally(() => this.inFlight.delete(recorded));
  }

  /** The injected API of one run; an inline run joins its caller's chain. */
  private hosted(
    workerName: string,
    id: number | null,
    auth: Auth | undefined,
    caller?: HostedRun,
    requestId?: string,
  ): Pick<RunJob, 'host' | 'hostSettings'> {
    const run: HostedRun = {
      workerName,
      jsResultId: id,
      auth,
      requestId: caller?.requestId ?? requestId,
      depth: caller === undefined ? 0 : caller.depth + 1,
      chain: caller?.chain ?? { inlineCalls: 0 },
    };
    return { host: this.host.forRun(run, this.inlineRunner), hostSettings: this.host.settings };
  }

  private readonly inlineRunner = (name: string, params: unknown, timeoutMs: number | undefined, caller: HostedRun) =>
    this.runInline(name, params, timeoutMs, caller);

  /**
   * Admits a run of worker `name` and writes its js_result row (running, tracked by this instance),
   * reading the worker in the same statement: the row and the code it runs come from one snapshot.
   * Refusals (a missing worker, params PostgreSQL cannot store, a full queue) write nothing.
   */
  private async startRow(name: string, runType: string, params: unknown): Promise<{ ticket: RunTicket; id: number; worker: JsWorker }> {
    const { instanceId, ticket } = await this.missingWorkerFirst(name, async () => {
      checkStorable('params', params);
      const instanceId = await this.instance.currentId();
      return { instanceId, ticket: this.runner.admit() };
    });
    try {
      const run = { workerName: name, runType, startTime: Date.now(), paramJson: params == null ? null : jsonb(params) };
      const started = await this.runWrites.start(run, instanceId);
      if (started === undefined) throw notFound(name);
      return { ticket, id: started.id, worker: workerFromRow(started.worker) };
    } catch (err) {
      this.runner.cancel(ticket);
      throw err;
    }
  }

  /** `check`'s refusal, unless the worker is missing: that is named first, as when the worker was read before anything else. */
  private async missingWorkerFirst<T>(name: string, check: () => Promise<T>): Promise<T> {
    try {
      return await check();
    } catch (refusal) {
      await this.find(name);
      throw refusal;
    }
  }

  /** The console output kept with a run; runs the caller may not read look the same as missing ones. */
  async runConsole(input: RunConsoleParamsDto, auth: Auth): Promise<RunConsoleRecord> {
    const row = await this.results.runConsole(input.id.toString());
    if (!row || !canAccessWorker(auth, 'read', row.js_worker_name)) throw notAcceptable(`js_result ${input.id} not found`);
    return { id: input.id, js_worker_name: row.js_worker_name, finished: !row.running, lines: row.lines ?? [] };
  }

  /**
   * For the shutdown's bounded wait (server-drain.ts): resolves once every run
   * started here has ended and its outcome is recorded. Runs still going when
   * the wait ends are interrupted by onModuleDestroy.
   */
  async runsSettled(): Promise<void> {
    while (this.inFlight.size > 0 && !this.closing) await Promise.allSettled([...this.inFlight]);
  }

  /** Graceful shutdown: runs under way end now and are recorded as interrupted before the database closes. */
  async onModuleDestroy(): Promise<void> {
    this.closing = true;
    await this.runner.close();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    await this.instance.close();
  }

  private authorise(auth: Auth, action: JsWorkerAction, name: string): void {
    if (!canUseWorker(auth, action, name)) {
      throw new DomainError(
        DomainErrorCode.PermissionDenied,
        `Permission denied for js_worker on worker '${name}', action: ${ACTION_NAMES[action]}`,
      );
    }
  }

  private async find(name: string): Promise<JsWorker> {
    const worker = await this.workers.findByName(name);
    if (worker === undefined) throw notFound(name);
    return worker;
  }

  /** Validated on a sandbox thread: a hostile top level costs this event loop nothing. */
  private async checkedScript(base64: string): Promise<string> {
    const source = decodeScript(base64);
    const validation = await this.runner.validate(source);
    if (!validation.ok) throw notAcceptable(`js_script_base64: ${validation.message}`);
    return source;
  }

  /**
   * Records how a run ended. While the database is away it keeps trying (the
   * row stays running, tracked by this live instance); a failure is logged,
   * never thrown: nobody awaits it. When `wanted`, the finished record as the
   * write read it back (undefined if it did not come).
   */
  private async record(id: number, outcome: RunOutcome, wanted: boolean, requestId?: string): Promise<CappedRow | undefined> {
    let final = this.finalOutcome(outcome);
    const fields = requestId === undefined ? { js_result_id: id } : { js_result_id: id, reqId: requestId };
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.writeOutcome(id, final, wanted);
      } catch (error) {
        if (isDatabaseUnavailable(error) && !this.closing) {
          const delay = RECORD_RETRY_MS[Math.min(attempt, RECORD_RETRY_MS.length - 1)];
          this.logger.warn({ err: error, ...fields, attempt }, `could not record the end of a JS worker run; retrying in ${delay} ms`);
          await sleep(delay);
          continue;
        }
        this.logger.error({ err: error, ...fields }, 'could not record the end of a JS worker run');
        if (!final.ok || isDatabaseUnavailable(error)) return undefined;
        // The database refused the result itself: record the run as a failure saying so, rather than leave it running.
        const reason = error instanceof Error ? error.message : String(error);
        final = { ok: false, error: toStorableText(`result could not be stored: ${reason}`), console: final.console };
      }
    }
  }

  private finalOutcome(outcome: RunOutcome): RunOutcome {
    const console = outcome.console.map(toStorableText);
    if (!outcome.ok) {
      // The pool is closed only when the server shuts down.
      const interrupted = outcome.error.startsWith(POOL_CLOSED);
      return { ok: false, error: interrupted ? SHUTDOWN_MESSAGE : toStorableText(outcome.error), console };
    }
    const unstorable = findUnstorableValue(outcome.result, 'result');
    if (unstorable !== undefined) return { ok: false, error: `result could not be stored: ${unstorable}`, console };
    return { ...outcome, console };
  }

  private writeOutcome(id: number, outcome: RunOutcome, wanted: boolean): Promise<CappedRow | undefined> {
    // JSON null is stored as jsonb 'null' (NOT NULL in SQL), so it counts as a success.
    const result = outcome.ok ? JSON.stringify(outcome.result) : null;
    const error = outcome.ok ? null : outcome.error;
    const lines = outcome.console.length > 0 ? JSON.stringify(outcome.console) : null;
    return this.runWrites.finish(id, { finishTime: Date.now(), resultJson: result, errorMessage: error, consoleJson: lines }, wanted);
  }
}

const HANDLERS: Record<RunWorkerParamsDto['runType'], HandlerName> = { call: 'onCall', cron: 'onCron', route: 'onRoute' };

/** A route run's Response is stored as NodeGet stores it: `{status, headers: [{name, value}], body_base64}`. */
function storedRouteOutcome(outcome: RunOutcome): RunOutcome {
  if (!outcome.ok) return outcome;
  if (outcome.route === undefined) return { ok: false, error: 'onRoute returned no Response', console: outcome.console };
  return { ok: true, result: { ...routeRunResult(outcome.route) }, console: outcome.console };
}

/** NodeGet's wording, which its dashboard looks for (`js_worker not found`) before it creates its base worker. */
function notFound(name: string): DomainError {
  return notFoundInDatabase(`js_worker not found: ${name}`);
}

/** Which unique index refused the row: the route name's, or the worker name's. */
function clash(error: unknown, name: string, routeName: string | null): DomainError {
  const constraint = (error as { driverError?: { constraint?: string } }).driverError?.constraint;
  if (constraint === ROUTE_NAME_INDEX && routeName !== null) return routeNameTaken(routeName);
  return notAcceptable(`js_worker '${name}' already exists`);
}

/** Made by the AddJsWorkerRoute migration. */
const ROUTE_NAME_INDEX = 'uq_js_worker_route_name';
