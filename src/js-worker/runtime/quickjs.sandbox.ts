import {
  Scope,
  type JSModuleLoader,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
} from 'quickjs-emscripten';
import { CONSOLE_LEVELS, type ConsoleCapture, type ConsoleLevel } from './console.capture';
import { LimitGuard } from './limit.guard';
import type { GrowthGate, QuickJSEngine } from './quickjs.loader';
import type { ResolvedLimits } from './run-limits';
import { HANDLER_NAMES, type HandlerName } from './runtime.types';
import {
  formatGuestError,
  limitMessage,
  SandboxFailure,
  SCRIPT_FILENAME,
  type GuestErrorDescription,
  type LimitName,
} from './sandbox.errors';
import { PRELUDE_FILENAME, PRELUDE_SOURCE } from './sandbox.prelude';

/** Serialised handler arguments: params, env, ctx (undefined stays undefined in the guest). */
export type HandlerArgs = readonly [string | undefined, string | undefined, string | undefined];

/** Enough for the prelude to read an error's fields, too short for a hostile accessor to matter. */
const POST_MORTEM_GRACE_MS = 100;
const POST_MORTEM_MEMORY_BYTES = 1024 * 1024;
/** Jobs run between checks of the promise being waited on and of the wall clock. */
const PENDING_JOB_BATCH = 64;

const refuseEveryModule: JSModuleLoader = (name) => ({
  error: new Error(`module loading is disabled in the sandbox (requested "${name}")`),
});

/**
 * One disposable QuickJS runtime + context for one run, with limits, a captured console and
 * no host capabilities. Every guest-facing step either returns a handle owned by the sandbox
 * (freed by dispose) or throws SandboxFailure with a final message; anything else thrown is a
 * host fault and means the QuickJS module may be unusable.
 */
export class Sandbox {
  private readonly scope = new Scope();
  private readonly context: QuickJSContext;
  private readonly guard: LimitGuard;
  private readonly helpers: QuickJSHandle;

  static open(engine: QuickJSEngine, limits: ResolvedLimits, capture: ConsoleCapture): Sandbox {
    return new Sandbox(engine.module.newRuntime(), engine.memory, limits, capture);
  }

  private constructor(
    private readonly runtime: QuickJSRuntime,
    private readonly memory: GrowthGate,
    private readonly limits: ResolvedLimits,
    capture: ConsoleCapture,
  ) {
    this.scope.manage(runtime);
    memory.limitGrowth(limits.maxHeapBytes);
    try {
      runtime.setMemoryLimit(limits.maxHeapBytes);
      runtime.setMaxStackSize(limits.maxStackBytes);
      runtime.setModuleLoader(refuseEveryModule);
      this.context = this.scope.manage(runtime.newContext());
      // Allocates QuickJS's internal "system context" now rather than from inside an interrupt.
      runtime.computeMemoryUsage().dispose();
      this.guard = new LimitGuard(() => this.usedHeapBytes(), limits);
      runtime.setInterruptHandler(() => this.shouldInterrupt());
      this.helpers = this.installPrelude(capture);
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  dispose(): void {
    try {
      this.scope.dispose();
    } finally {
      this.memory.release();
    }
  }

  /** Evaluates the script as an ES module and returns its namespace (awaiting top-level await). */
  evaluateModule(source: string): QuickJSHandle {
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

  /** Calls the handler and waits for its result if it is a promise or thenable. */
  invoke(namespace: QuickJSHandle, handler: HandlerName, args: HandlerArgs): QuickJSHandle {
    const argHandles = args.map((json) => (json === undefined ? this.context.undefined : this.newString(json)));
    const result = this.callHelper('invoke', namespace, this.newString(handler), ...argHandles);
    return this.settle(result, handler);
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

  private usedHeapBytes(): number {
    const usage = this.runtime.computeMemoryUsage();
    try {
      if (this.context.typeof(usage) !== 'object') return 0;
      const used = this.context.getProp(usage, 'memory_used_size');
      try {
        return this.context.getNumber(used);
      } finally {
        used.dispose();
      }
    } finally {
      usage.dispose();
    }
  }

  private installPrelude(capture: ConsoleCapture): QuickJSHandle {
    const factory = this.unwrap(this.context.evalCode(PRELUDE_SOURCE, PRELUDE_FILENAME, { type: 'global' }));
    const emit = this.scope.manage(
      this.context.newFunction('emit', (level, text) => this.emit(capture, level, text)),
    );
    return this.call(factory, emit);
  }

  private emit(capture: ConsoleCapture, levelHandle: QuickJSHandle, textHandle: QuickJSHandle): QuickJSHandle {
    const level = this.context.getString(levelHandle);
    const accepted = isConsoleLevel(level) && capture.push(level, this.context.getString(textHandle));
    return accepted ? this.context.true : this.context.false;
  }

  private settle(handle: QuickJSHandle, what: string): QuickJSHandle {
    for (;;) {
      const state = this.context.getPromiseState(handle);
      if (state.type === 'fulfilled') return state.notAPromise ? handle : this.scope.manage(state.value);
      if (state.type === 'rejected') throw this.failureFrom(state.error);
      this.runPendingJobs(what);
    }
  }

  private runPendingJobs(what: string): void {
    if (this.guard.timedOut) {
      this.guard.markTimedOut();
      throw this.limitFailure('max_run_time');
    }
    // Nothing in the sandbox can wake a promise up later (no timers, no I/O), so waiting out the
    // clock would only burn a worker.
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
