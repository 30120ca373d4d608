import { ConsoleCapture } from './console.capture';
import type { QuickJSEngine } from './quickjs.loader';
import { Sandbox } from './quickjs.sandbox';
import type { ResolvedLimits } from './run-limits';
import type { ScriptValidation } from './runtime.types';
import { SandboxFailure } from './sandbox.errors';

export const DEFAULT_EXPORT_MESSAGE = 'default export must be an object with onCall, onCron, onInlineCall or onRoute';

/**
 * Validation runs on a sandbox thread (RunnerPool.validate), yet a store is not a run: its
 * top level gets a second, whatever limits the worker asks for, so a flood of hostile creates
 * holds each thread briefly. The stack and heap are those validation always had, so scripts
 * accepted (or refused) before are accepted (or refused) the same way.
 */
export const VALIDATION_LIMITS: ResolvedLimits = Object.freeze({
  maxRunTimeMs: 1000,
  maxHeapBytes: 8 * 1024 * 1024,
  maxStackBytes: 64 * 1024,
});

/**
 * Checks that the source parses as an ES module and default-exports an object with at least one
 * handler (onCall, onCron, onInlineCall, onRoute), by evaluating it in a fresh QuickJS sandbox.
 * The injected API refuses every call here: storing a script runs nothing on its behalf.
 * Script failures (syntax, a throw, a limit) come back as `{ ok: false }`.
 *
 * @throws anything but SandboxFailure on a host fault: the QuickJS module may be corrupt and must be discarded.
 */
export async function validateScript(engine: QuickJSEngine, source: string): Promise<ScriptValidation> {
  const sandbox = Sandbox.open(engine, VALIDATION_LIMITS, new ConsoleCapture());
  try {
    const handlers = sandbox.handlersOf(await sandbox.evaluateModule(source));
    return handlers !== null && handlers.length > 0 ? { ok: true, handlers } : { ok: false, message: DEFAULT_EXPORT_MESSAGE };
  } catch (error) {
    if (error instanceof SandboxFailure) return { ok: false, message: error.message };
    throw error;
  } finally {
    sandbox.dispose();
  }
}

/** The refusal for a script whose validation hit a host fault rather than a fault of its own. */
export function unvalidated(error: unknown): ScriptValidation {
  const detail = error instanceof Error ? error.message : String(error);
  return { ok: false, message: `script could not be validated: ${detail}` };
}
