import { ConsoleCapture } from './console.capture';
import type { QuickJSEngine } from './quickjs.loader';
import { Sandbox, type SandboxChannel } from './quickjs.sandbox';
import { resultDepthError } from './result-depth';
import type { JsonValue, RunOutcome } from './runtime.types';
import { SandboxFailure } from './sandbox.errors';
import type { SandboxRequest, SandboxRoute } from './sandbox.protocol';
import type { RouteResponse } from './route.types';
import type { RuntimeKeeper } from './runtime.keeper';

/**
 * Runs one handler call in a fresh sandbox (a fresh context, in the thread's warm runtime when
 * `keeper` is given) on the calling thread. It is synchronous but for
 * waits on the main thread's answers to host calls (channel), during which the thread is idle.
 * Script failures come back as `{ ok: false }`; a thrown exception means a host fault
 * (the QuickJS module may be corrupt and should be discarded).
 */
export async function runScript(engine: QuickJSEngine, request: SandboxRequest, channel?: SandboxChannel, keeper?: RuntimeKeeper): Promise<RunOutcome> {
  const capture = new ConsoleCapture();
  const sandbox = Sandbox.open(engine, request.limits, capture, channel, keeper);
  // Only a run that ended as a run (a result or a script failure) may leave its runtime to the next.
  let clean = false;
  try {
    let outcome: RunOutcome;
    try {
      if (request.route !== undefined) {
        const route = await executeRoute(sandbox, request, request.route);
        outcome = { ok: true, result: null, route, console: capture.lines() };
      } else {
        outcome = { ok: true, result: await execute(sandbox, request), console: capture.lines() };
      }
    } catch (error) {
      if (!(error instanceof SandboxFailure)) throw error;
      outcome = { ok: false, error: error.message, console: capture.lines() };
    }
    clean = true;
    return outcome;
  } finally {
    sandbox.dispose(clean);
  }
}

async function execute(sandbox: Sandbox, request: SandboxRequest): Promise<JsonValue> {
  const namespace = await sandbox.evaluateModule(request.script);
  if (!sandbox.handlersOf(namespace)?.includes(request.handler)) {
    throw new SandboxFailure(`handler ${request.handler} is not defined`);
  }
  const value = await sandbox.invoke(namespace, request.handler, request.args);
  const json = sandbox.serialise(value);
  // Checked before parsing: a value this deep could not be posted back to the main thread either.
  const tooDeep = resultDepthError(json);
  if (tooDeep !== undefined) throw new SandboxFailure(tooDeep);
  return JSON.parse(json) as JsonValue;
}

/** onRoute's run: its Response's parts instead of a JSON result. */
async function executeRoute(sandbox: Sandbox, request: SandboxRequest, route: SandboxRoute): Promise<RouteResponse> {
  sandbox.prepareRoute();
  const namespace = await sandbox.evaluateModule(request.script);
  if (!sandbox.handlersOf(namespace)?.includes('onRoute')) throw new SandboxFailure('handler onRoute is not defined');
  return sandbox.invokeRoute(namespace, route, request.args);
}
