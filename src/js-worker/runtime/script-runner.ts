import { ConsoleCapture } from './console.capture';
import type { QuickJSEngine } from './quickjs.loader';
import { Sandbox } from './quickjs.sandbox';
import { resultDepthError } from './result-depth';
import type { JsonValue, RunOutcome } from './runtime.types';
import { SandboxFailure } from './sandbox.errors';
import type { SandboxRequest } from './sandbox.protocol';

/**
 * Runs one handler call in a fresh sandbox on the calling thread, synchronously.
 * Script failures come back as `{ ok: false }`; a thrown exception means a host fault
 * (the QuickJS module may be corrupt and should be discarded).
 */
export function runScript(engine: QuickJSEngine, request: SandboxRequest): RunOutcome {
  const capture = new ConsoleCapture();
  const sandbox = Sandbox.open(engine, request.limits, capture);
  try {
    return { ok: true, result: execute(sandbox, request), console: capture.lines() };
  } catch (error) {
    if (error instanceof SandboxFailure) return { ok: false, error: error.message, console: capture.lines() };
    throw error;
  } finally {
    sandbox.dispose();
  }
}

function execute(sandbox: Sandbox, request: SandboxRequest): JsonValue {
  const namespace = sandbox.evaluateModule(request.script);
  if (!sandbox.handlersOf(namespace)?.includes(request.handler)) {
    throw new SandboxFailure(`handler ${request.handler} is not defined`);
  }
  const value = sandbox.invoke(namespace, request.handler, request.args);
  const json = sandbox.serialise(value);
  // Checked before parsing: a value this deep could not be posted back to the main thread either.
  const tooDeep = resultDepthError(json);
  if (tooDeep !== undefined) throw new SandboxFailure(tooDeep);
  return JSON.parse(json) as JsonValue;
}
