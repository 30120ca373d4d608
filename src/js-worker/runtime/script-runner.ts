import { ConsoleCapture } from './console.capture';
import type { QuickJSEngine } from './quickjs.loader';
import { Sandbox, type SandboxChannel } from './quickjs.sandbox';
import { resultDepthError } from './result-depth';
import type { JsonValue, RunOutcome } from './runtime.types';
import { SandboxFailure } from './sandbox.errors';
import type { SandboxRequest, SandboxRoute } from './sandbox.protocol';
import type { RouteResponse } from './route.types';

/**
 * Runs one handler call in a fresh sandbox on the calling thread. It is synchronous but for
 * waits on the main thread's answers to host calls (channel), during which the thread is idle.
 * Script failures come back as `{ ok: false }`; a thrown exception means a host fault
 * (the QuickJS module may be corrupt and should be discarded).
 */
export async function runScript(engine: QuickJSEngine, request: SandboxRequest, channel?: SandboxChannel): Promise<RunOutcome> {
  const capture = new ConsoleCapture();
  const sandbox = Sandbox.open(engine, request.limits, capture, channel);
  try {
    if (request.route !== undefined) {
      const route = await executeRoute(sandbox, request, request.route);
      return { ok: true, result: null, route, console: capture.lines() };
    }
    return { ok: true, result: await execute(sandbox, request), console: capture.lines() };
  } catch (error) {
    if (error instanceof SandboxFailure) return { ok: false, error: error.message, console: capture.lines() };
    throw error;
  } finally {
    sandbox.dispose();
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
