import type { QuickJSRuntime } from 'quickjs-emscripten';
import type { QuickJSEngine } from './quickjs.loader';

export interface RuntimeKeeperOptions {
  /** A kept runtime unused this long is released (NodeGet's runtime_clean_time, for the thread's runtime). */
  idleMs: number;
  /** Runs a runtime serves before it is released, so nothing a runtime accumulates can grow without end. */
  maxRuns: number;
  /** A run that leaves more than this much QuickJS heap behind its context is the runtime's last. */
  maxLeftoverBytes: number;
}

export const RUNTIME_KEEPER_DEFAULTS: Readonly<RuntimeKeeperOptions> = Object.freeze({
  idleMs: 10_000,
  maxRuns: 1_000,
  maxLeftoverBytes: 1024 * 1024,
});

const refuseEveryModule = (name: string) => ({
  error: new Error(`module loading is disabled in the sandbox (requested "${name}")`),
});

/** A runtime as every sandbox gets one, kept or not: no module can be loaded into it. */
export function newSandboxRuntime(engine: QuickJSEngine): QuickJSRuntime {
  const runtime = engine.module.newRuntime();
  runtime.setModuleLoader(refuseEveryModule);
  return runtime;
}

/**
 * The sandbox thread's QuickJS runtime, kept warm between runs. Each run still gets a fresh
 * context of its own (its own global object and intrinsics), and its own limits and interrupt
 * handler; what a runtime shares between contexts (atoms, shapes, the Symbol.for registry) holds
 * nothing a script can read back. A runtime is handed out again only after a run that left it
 * clean: no job pending (a job keeps its context alive and would run in the next run's time), no
 * limit breached, and little heap left behind (a context's objects are freed by the runtime's
 * collector later, and would otherwise count against the next run).
 */
export class RuntimeKeeper {
  private kept?: QuickJSRuntime;
  private runs = 0;
  private idleTimer?: NodeJS.Timeout;
  private created = 0;

  constructor(
    private readonly engine: QuickJSEngine,
    private readonly options: RuntimeKeeperOptions = RUNTIME_KEEPER_DEFAULTS,
  ) {}

  /** Runtimes made so far (a fresh one after every release). */
  get runtimesCreated(): number {
    return this.created;
  }

  /** Whether a runtime is kept for the next run now. */
  get holding(): boolean {
    return this.kept !== undefined;
  }

  /** A runtime for one run, the kept one if there is one; give it back with giveBack(). */
  take(): QuickJSRuntime {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const kept = this.kept;
    this.kept = undefined;
    if (kept !== undefined && kept.alive) return kept;
    this.runs = 0;
    this.created++;
    return newSandboxRuntime(this.engine);
  }

  /**
   * Takes the runtime back after its run (its context disposed). `clean` is the run's word that
   * nothing went wrong; the keeper checks the rest. A runtime not kept is disposed.
   */
  giveBack(runtime: QuickJSRuntime, clean: boolean, leftoverBytes: number): void {
    this.runs++;
    const keep = clean && this.runs < this.options.maxRuns && leftoverBytes <= this.options.maxLeftoverBytes && !runtime.hasPendingJob();
    if (!keep || this.kept !== undefined) {
      runtime.dispose();
      return;
    }
    this.kept = runtime;
    this.idleTimer = setTimeout(() => this.release(), this.options.idleMs).unref();
  }

  /** Disposes the kept runtime, if any. */
  release(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const kept = this.kept;
    this.kept = undefined;
    if (kept?.alive) kept.dispose();
  }
}
