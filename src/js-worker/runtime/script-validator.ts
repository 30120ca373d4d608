import { ConsoleCapture } from './console.capture';
import { loadQuickJS, type QuickJSEngine } from './quickjs.loader';
import { Sandbox } from './quickjs.sandbox';
import type { ResolvedLimits } from './run-limits';
import type { ScriptValidation } from './runtime.types';
import { SandboxFailure } from './sandbox.errors';

export const DEFAULT_EXPORT_MESSAGE = 'default export must be an object with onCall or onCron';

/**
 * Validation runs on the caller's thread, so it gets a tight budget: a hostile top-level loop
 * blocks the event loop for at most a second. The stack stays small because the main thread's
 * native stack (~1 MB) must outlast QuickJS's check (see NATIVE_STACK_PER_QUICKJS_BYTE).
 */
const VALIDATION_LIMITS: ResolvedLimits = Object.freeze({
  maxRunTimeMs: 1000,
  maxHeapBytes: 8 * 1024 * 1024,
  maxStackBytes: 64 * 1024,
});
const VALIDATOR_WASM_MEMORY_MAX_BYTES = 64 * 1024 * 1024;

let engine: QuickJSEngine | undefined;
let loading: Promise<QuickJSEngine> | undefined;

/** Loads the validator's QuickJS module; await once (e.g. in onModuleInit) before validateScript. Idempotent. */
export async function initScriptValidator(): Promise<void> {
  loading ??= loadQuickJS(VALIDATOR_WASM_MEMORY_MAX_BYTES).then(
    (loaded) => (engine = loaded),
    (error: unknown) => {
      loading = undefined;
      throw error;
    },
  );
  await loading;
}

/**
 * Checks that the source parses as an ES module and default-exports an object with an
 * onCall and/or onCron function, by evaluating it in a fresh QuickJS sandbox.
 *
 * @throws Error when initScriptValidator() has not completed (WASM cannot load synchronously).
 */
export function validateScript(source: string): ScriptValidation {
  if (engine === undefined) {
    throw new Error('validateScript() needs `await initScriptValidator()` first: QuickJS loads asynchronously');
  }
  const current = engine;
  let sandbox: Sandbox | undefined;
  try {
    sandbox = Sandbox.open(current, VALIDATION_LIMITS, new ConsoleCapture());
    return inspect(sandbox, source);
  } catch (error) {
    if (error instanceof SandboxFailure) return { ok: false, message: error.message };
    replaceEngine();
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, message: `script could not be validated: ${detail}` };
  } finally {
    closeQuietly(sandbox);
  }
}

function inspect(sandbox: Sandbox, source: string): ScriptValidation {
  const handlers = sandbox.handlersOf(sandbox.evaluateModule(source));
  return handlers !== null && handlers.length > 0 ? { ok: true, handlers } : { ok: false, message: DEFAULT_EXPORT_MESSAGE };
}

function closeQuietly(sandbox: Sandbox | undefined): void {
  try {
    sandbox?.dispose();
  } catch {
    replaceEngine();
  }
}

/** After a host fault the module's C state cannot be trusted; load a fresh one in the background. */
function replaceEngine(): void {
  engine = undefined;
  loading = undefined;
  initScriptValidator().catch(() => undefined);
}
