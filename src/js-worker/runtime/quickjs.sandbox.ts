import { randomUUID } from 'node:crypto';
import {
  Scope,
  type QuickJSDeferredPromise,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
} from 'quickjs-emscripten';
import { CONSOLE_LEVELS, type ConsoleCapture, type ConsoleLevel } from './console.capture';
import { LimitGuard } from './limit.guard';
import type { GrowthGate, QuickJSEngine } from './quickjs.loader';
import type { ResolvedLimits } from './run-limits';
import {
  type HostAnswer,
  type HostCallKind,
  type HostSettings,
  MAX_LOG_LINES_PER_RUN,
  MAX_LOG_MESSAGE_CHARS,
  MAX_LOG_NAMESPACE_CHARS,
  NO_HOST_SETTINGS,
  WORKER_LOG_LEVELS,
  type WorkerLogLevel,
  type WorkerLogLine,
  logLevelKept,
} from './host-calls';
import type { RouteResponse } from './route.types';
import { HANDLER_NAMES, type HandlerArgs, type HandlerName } from './runtime.types';
import {
  formatGuestError,
  limitMessage,
  SandboxFailure,
  SCRIPT_FILENAME,
  type GuestErrorDescription,
  type LimitName,
} from './sandbox.errors';
import { API_SOURCE, INJECTED_FILENAME, INJECTED_SOURCE, WEB_SOURCE } from './sandbox.injected';
import { polyfillSource } from './sandbox.polyfills';
import { PRELUDE_FILENAME, PRELUDE_REST_SOURCE, PRELUDE_SOURCE } from './sandbox.prelude';
import { ROUTE_HELPER_FILENAME, ROUTE_HELPER_SOURCE } from './sandbox.route';
import type { SandboxRoute } from './sandbox.protocol';
import { newSandboxRuntime, type RuntimeKeeper } from './runtime.keeper';


/** Enough for the prelude to read an error's fields, too short for a hostile accessor to matter. */
const POST_MORTEM_GRACE_MS = 100;
const POST_MORTEM_MEMORY_BYTES = 1024 * 1024;
/** Jobs run between checks of the promise being waited on and of the wall clock. */
const PENDING_JOB_BATCH = 64;

/**
 * The sandbox thread's line to the main thread during a run: calls go out by id, their answers
 * come back in any order. A sandbox without one (validation) refuses every call.
 */
export interface SandboxChannel {
  readonly settings: HostSettings;
  send(callId: number, kind: HostCallKind, payload: string): void;
  log(line: WorkerLogLine): void;
  /** The next answer, or undefined once `deadline` (performance.now() ms) has passed. */
  next(deadline: number): Promise<{ callId: number; answer: HostAnswer } | undefined>;
}

const NOT_AVAILABLE = 'is not available while a script is being stored (only when it runs)';

/**
 * One disposable QuickJS context for one run, with limits, a captured console and no host
 * capabilities, in a runtime of its own or in the thread's warm one (RuntimeKeeper): the run's
 * heap limits count from what the runtime held before the run's context was made. Every guest-facing step either returns a handle owned by the sandbox
 * (freed by dispose) or throws SandboxFailure with a final message; anything else thrown is a
 * host fault and means the QuickJS module may be unusable.
 */
export class Sandbox {
  private readonly scope = new Scope();
  private readonly context: QuickJSContext;
  private readonly guard: LimitGuard;
  private readonly helpers: QuickJSHandle;
  private readonly injected: QuickJSHandle;
  /** Host calls sent and not answered yet, by call id. */
  private readonly pendingCalls = new Map<number, QuickJSDeferredPromise>();
  private nextCallId = 1;
  private logLines = 0;
  /** The onRoute helper, once prepareRoute built it. */
  private routeHelper?: QuickJSHandle;

  /** QuickJS's heap in use (`memory_used_size`) when the run began: the run's own use is counted above it. */
  private readonly heapBefore: number;
  private disposed = false;

  /** @param keeper the thread's warm runtime; without one the sandbox makes a runtime of its own and disposes it */
  static open(engine: QuickJSEngine, limits: ResolvedLimits, capture: ConsoleCapture, channel?: SandboxChannel, keeper?: RuntimeKeeper): Sandbox {
    const runtime = keeper?.take() ?? newSandboxRuntime(engine);
    return new Sandbox(runtime, engine.memory, limits, capture, channel, keeper);
  }

  private constructor(
    private readonly runtime: QuickJSRuntime,
    private readonly memory: GrowthGate,
    private readonly limits: ResolvedLimits,
    capture: ConsoleCapture,
    private readonly channel?: SandboxChannel,
    private readonly keeper?: RuntimeKeeper,
  ) {
    if (keeper === undefined) this.scope.manage(runtime);
    memory.limitGrowth(limits.maxHeapBytes);
    try {
      // Per allocation under Emscripten (see GrowthGate), so what the runtime held before does not count against it.
      runtime.setMemoryLimit(limits.maxHeapBytes);
      runtime.setMaxStackSize(limits.maxStackBytes);
      this.context = this.scope.manage(runtime.newContext());
      // Read through the run's own context, which exists by now; on a warm runtime it counts what earlier runs
      // left, so the run gets the same room as on a fresh one. Also allocates QuickJS's internal "system context"
      // now rather than from inside an interrupt.
      this.heapBefore = this.usedHeapBytes();
      this.guard = new LimitGuard(() => this.usedHeapBytes() - this.heapBefore, limits);
      runtime.setInterruptHandler(() => this.shouldInterrupt());
      this.helpers = this.installPrelude(capture);
      this.injected = this.installInjected(channel?.settings ?? NO_HOST_SETTINGS);
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  /** @param clean whether the run ended without a host fault, so its runtime may serve another run */
  dispose(clean = false): void {
    if (this.disposed) return;
    this.disposed = true;
    let leftover = Number.POSITIVE_INFINITY;
    try {
      if (clean && this.keeper !== undefined && this.guard?.breached === undefined) leftover = this.usedHeapBytes() - this.heapBefore;
      for (const deferred of this.pendingCalls.values()) deferred.dispose();
      this.pendingCalls.clear();
      this.scope.dispose();
    } finally {
      this.memory.release();
      this.keeper?.giveBack(this.runtime, clean && Number.isFinite(leftover), leftover);
    }
  }

  /** Evaluates the script as an ES module and returns its namespace (awaiting top-level await). */
  evaluateModule(source: string): Promise<QuickJSHandle> {
    const namespace = this.unwrap(this.context.evalCode(source, SCRIPT_FILENAME, { type: 'module' }));
    return this.settle(namespace, 'module evaluation');
  }

  /** Handlers the default export provides, or null when the default export is not an object. */
  handlersOf(namespace: QuickJSHandle): HandlerName[] | null {
    const found = this.callHelper('handlers', namespace);
    if (this.context.typeof(found) !== 'string') return null;
    const names = this.context.getString(found).split(',');
    return HANDLER_NAMES.filter((name) => names.includes(name));
  }

  /**
   * Calls the handler and waits for its result if it is a promise or thenable. The context
   * (third argument) is built in the guest from its JSON, with `inlineCall` added.
   */
  invoke(namespace: QuickJSHandle, handler: HandlerName, args: HandlerArgs): Promise<QuickJSHandle> {
    const [params, env, ctx] = args.map((json) => (json === undefined ? this.context.undefined : this.newString(json)));
    const context = args[2] === undefined ? ctx : this.call(this.scope.manage(this.context.getProp(this.injected, 'context')), ctx);
    const result = this.callHelper('invoke', namespace, this.newString(handler), params, env, context);
    return this.settle(result, handler);
  }

  /** Builds the onRoute helper (sandbox.route.ts); before evaluateModule, so it captures untouched intrinsics. */
  prepareRoute(): void {
    const factory = this.unwrap(this.context.evalCode(ROUTE_HELPER_SOURCE, ROUTE_HELPER_FILENAME, { type: 'global' }));
    const defaultExport = this.scope.manage(this.context.getProp(this.helpers, 'defaultExport'));
    const show = this.scope.manage(this.context.getProp(this.helpers, 'show'));
    this.routeHelper = this.call(factory, defaultExport, show);
  }

  /**
   * onRoute (after prepareRoute): calls it with a Request built in the guest from `route`, waits for it, and reads
   * back the Response's status, headers and body (sandbox.route.ts does the guest's part).
   */
  async invokeRoute(namespace: QuickJSHandle, route: SandboxRoute, args: HandlerArgs): Promise<RouteResponse> {
    const [, env, ctx] = args.map((json) => (json === undefined ? this.context.undefined : this.newString(json)));
    const context = args[2] === undefined ? ctx : this.call(this.scope.manage(this.context.getProp(this.injected, 'context')), ctx);
    const copy = route.body.buffer.slice(route.body.byteOffset, route.body.byteOffset + route.body.byteLength);
    const body = this.scope.manage(this.context.newArrayBuffer(copy));
    if (this.routeHelper === undefined) throw new Error('prepareRoute() must come before invokeRoute()');
    const reduced = await this.settle(this.call(this.routeHelper, namespace, this.newString(route.init), body, env, context), 'onRoute');
    const meta = JSON.parse(this.ownString(reduced, 'meta') ?? 'null') as { status: number; headers: [string, string][] };
    const text = this.ownString(reduced, 'text');
    if (text !== undefined) return { ...meta, body: Buffer.from(text, 'utf8') };
    const bytes = this.scope.manage(this.context.getProp(reduced, 'bytes'));
    const view = this.context.getArrayBuffer(bytes);
    try {
      return { ...meta, body: view.value.slice() };
    } finally {
      view.dispose();
    }
  }

  /** JSON text of the value, serialised inside the guest. */
  serialise(value: QuickJSHandle): string {
    let json: QuickJSHandle;
    try {
      json = this.callHelper('serialise', value);
    } catch (error) {
      if (error instanceof SandboxFailure && !isLimitMessage(error)) {
        throw new SandboxFailure(`result is not JSON-serialisable (${error.message})`);
      }
      throw error;
    }
    if (this.context.typeof(json) !== 'string') throw new SandboxFailure('result is not JSON-serialisable');
    return this.context.getString(json);
  }

  private shouldInterrupt(): boolean {
    try {
      return this.guard.shouldInterrupt();
    } catch {
      // A failing heap probe must not kill the run; the deadline and WASM memory cap still hold.
      return false;
    }
  }

  /** QuickJS's estimate of the heap in use (`memory_used_size`), garbage not collected yet included. */
  private usedHeapBytes(): number {
    const usage = this.runtime.computeMemoryUsage();
    try {
      return this.context.typeof(usage) === 'object' ? numberProp(this.context, usage, 'memory_used_size') : 0;
    } finally {
      usage.dispose();
    }
  }

  private installPrelude(capture: ConsoleCapture): QuickJSHandle {
    const factory = this.unwrap(this.context.evalCode(PRELUDE_SOURCE, PRELUDE_FILENAME, { type: 'global' }));
    const emit = this.scope.manage(
      this.context.newFunction('emit', (level, text) => this.emit(capture, level, text)),
    );
    const restSource = this.scope.manage(this.context.newFunction('restSource', () => this.context.newString(PRELUDE_REST_SOURCE)));
    return this.call(factory, emit, restSource);
  }

  private installInjected(settings: HostSettings): QuickJSHandle {
    const factory = this.unwrap(this.context.evalCode(INJECTED_SOURCE, INJECTED_FILENAME, { type: 'global' }));
    const host = this.scope.manage(this.context.newObject());
    const fn = (name: string, impl: (...args: QuickJSHandle[]) => QuickJSHandle | undefined) => {
      const handle = this.scope.manage(this.context.newFunction(name, impl));
      this.context.setProp(host, name, handle);
    };
    fn('call', (kind, payload) => this.hostCall(this.context.getString(kind), this.context.getString(payload)));
    fn('log', (level, namespace, message) => this.hostLog(settings, level, namespace, message));
    fn('uuid', () => this.context.newString(randomUUID()));
    fn('source', (name) => {
      const wanted = this.context.getString(name);
      const source = wanted === 'api' ? API_SOURCE : wanted === 'web' ? WEB_SOURCE : polyfillSource(wanted);
      return source === undefined ? this.context.undefined : this.context.newString(source);
    });
    this.context.setProp(host, 'fetchEnabled', settings.fetchEnabled ? this.context.true : this.context.false);
    return this.call(factory, host);
  }

  /** A promise the guest awaits; settled by awaitAnswer when the main thread answers. */
  private hostCall(kind: string, payload: string): QuickJSHandle {
    const deferred = this.context.newPromise();
    if (this.channel === undefined || !isHostCallKind(kind)) {
      deferred.reject(this.newString(`${kind === 'inline' ? 'inlineCall' : kind} ${NOT_AVAILABLE}`));
      const promise = deferred.handle.dup();
      deferred.dispose();
      return promise;
    }
    const callId = this.nextCallId++;
    this.pendingCalls.set(callId, deferred);
    this.channel.send(callId, kind, payload);
    return deferred.handle.dup();
  }

  /** Filtered and capped here, so a chatty or filtered-out script costs the main thread nothing. */
  private hostLog(settings: HostSettings, levelHandle: QuickJSHandle, namespace: QuickJSHandle, message: QuickJSHandle): undefined {
    const level = this.context.getString(levelHandle) as WorkerLogLevel;
    if (this.channel === undefined || !WORKER_LOG_LEVELS.includes(level) || !logLevelKept(level, settings.logLevel)) return undefined;
    if (++this.logLines > MAX_LOG_LINES_PER_RUN) return undefined;
    this.channel.log({
      level,
      namespace: this.context.getString(namespace).slice(0, MAX_LOG_NAMESPACE_CHARS),
      message: this.context.getString(message).slice(0, MAX_LOG_MESSAGE_CHARS),
    });
    return undefined;
  }

  private emit(capture: ConsoleCapture, levelHandle: QuickJSHandle, textHandle: QuickJSHandle): QuickJSHandle {
    const level = this.context.getString(levelHandle);
    const accepted = isConsoleLevel(level) && capture.push(level, this.context.getString(textHandle));
    return accepted ? this.context.true : this.context.false;
  }

  private async settle(handle: QuickJSHandle, what: string): Promise<QuickJSHandle> {
    for (;;) {
      const state = this.context.getPromiseState(handle);
      if (state.type === 'fulfilled') return state.notAPromise ? handle : this.scope.manage(state.value);
      if (state.type === 'rejected') throw this.failureFrom(state.error);
      if (!this.runtime.hasPendingJob() && this.pendingCalls.size > 0) await this.awaitAnswer();
      else this.runPendingJobs(what);
    }
  }

  /** The thread is idle meanwhile; the run's wall clock still applies. */
  private async awaitAnswer(): Promise<void> {
    const next = await this.channel?.next(this.guard.deadlineAt);
    if (next === undefined) {
      this.guard.markTimedOut();
      throw this.limitFailure('max_run_time');
    }
    const deferred = this.pendingCalls.get(next.callId);
    if (deferred === undefined) return;
    this.pendingCalls.delete(next.callId);
    const { answer } = next;
    if (answer.ok) deferred.resolve(answer.json === undefined ? this.context.undefined : this.newString(answer.json));
    else deferred.reject(this.newString(answer.error));
    deferred.dispose();
  }

  private runPendingJobs(what: string): void {
    if (this.guard.timedOut) {
      this.guard.markTimedOut();
      throw this.limitFailure('max_run_time');
    }
    // Nothing in the sandbox can wake a promise up later (no timers; I/O only through host calls,
    // and none is pending), so waiting out the clock would only burn a worker.
    if (!this.runtime.hasPendingJob()) {
      throw new SandboxFailure(
        `max_run_time: ${what} returned a promise that can never settle ` +
          `(nothing left to run; it would have been stopped after ${this.limits.maxRunTimeMs} ms)`,
      );
    }
    const result = this.runtime.executePendingJobs(PENDING_JOB_BATCH);
    if (result.error) throw this.failureFrom(result.error);
  }

  private callHelper(name: string, ...args: QuickJSHandle[]): QuickJSHandle {
    return this.call(this.scope.manage(this.context.getProp(this.helpers, name)), ...args);
  }

  private call(fn: QuickJSHandle, ...args: QuickJSHandle[]): QuickJSHandle {
    return this.unwrap(this.context.callFunction(fn, this.context.undefined, ...args));
  }

  private unwrap(result: ReturnType<QuickJSContext['evalCode']>): QuickJSHandle {
    if (result.error !== undefined) throw this.failureFrom(result.error);
    return this.scope.manage(result.value);
  }

  /** A string property the guest helpers set on an object they made; undefined when it is not a string. */
  private ownString(object: QuickJSHandle, name: string): string | undefined {
    const value = this.scope.manage(this.context.getProp(object, name));
    return this.context.typeof(value) === 'string' ? this.context.getString(value) : undefined;
  }

  private newString(text: string): QuickJSHandle {
    return this.scope.manage(this.context.newString(text));
  }

  private failureFrom(error: QuickJSHandle): SandboxFailure {
    this.scope.manage(error);
    const breach = this.guard.breached;
    if (breach !== undefined) return this.limitFailure(breach);
    return new SandboxFailure(formatGuestError(this.describe(error), this.limits));
  }

  private limitFailure(limit: LimitName): SandboxFailure {
    return new SandboxFailure(limitMessage(limit, this.limits));
  }

  private describe(error: QuickJSHandle): GuestErrorDescription {
    this.guard.beginPostMortem(POST_MORTEM_GRACE_MS);
    // The error may be the out-of-memory one; describing it needs a little room.
    this.runtime.setMemoryLimit(-1);
    this.memory.limitGrowth(POST_MORTEM_MEMORY_BYTES);
    const describeFn = this.scope.manage(this.context.getProp(this.helpers, 'describe'));
    const result = this.context.callFunction(describeFn, this.context.undefined, error);
    if (result.error !== undefined) {
      result.error.dispose();
      return { thrown: '(an error that could not be described)' };
    }
    const text = this.scope.manage(result.value);
    return this.context.typeof(text) === 'string' ? parseDescription(this.context.getString(text)) : {};
  }
}

function numberProp(context: QuickJSContext, object: QuickJSHandle, name: string): number {
  const value = context.getProp(object, name);
  try {
    return context.getNumber(value);
  } finally {
    value.dispose();
  }
}

function isHostCallKind(kind: string): kind is HostCallKind {
  return kind === 'inline' || kind === 'nodeget' || kind === 'fetch';
}

function isConsoleLevel(level: string): level is ConsoleLevel {
  return (CONSOLE_LEVELS as readonly string[]).includes(level);
}

function isLimitMessage(error: SandboxFailure): boolean {
  return /^max_(run_time|heap_size|stack_size)\b/.test(error.message);
}

function parseDescription(text: string): GuestErrorDescription {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as GuestErrorDescription) : {};
  } catch {
    return {};
  }
}
