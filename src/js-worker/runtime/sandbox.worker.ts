/**
 * Entry point of a sandbox worker thread: loads QuickJS once, then runs or validates one script
 * per message. Jobs are synchronous, so a thread only ever holds one; the pool never sends a
 * second before the first is answered.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { loadQuickJS, type QuickJSEngine } from './quickjs.loader';
import { WORKER_RECYCLE_MEMORY_BYTES, WORKER_WASM_MEMORY_MAX_BYTES } from './run-limits';
import type { RunOutcome } from './runtime.types';
import { limitMessage } from './sandbox.errors';
import { SANDBOX_WORKER_FLAG } from './sandbox.launcher';
import type { SandboxRequest, WorkerInbound, WorkerOutbound } from './sandbox.protocol';
import { runScript } from './script-runner';
import { unvalidated, validateScript } from './script-validator';

const isSandboxThread = parentPort !== null && (workerData as Record<string, unknown> | null)?.[SANDBOX_WORKER_FLAG] === true;

if (isSandboxThread && parentPort !== null) {
  // A load failure rejects unhandled on purpose: the thread dies, and the pool fails the job it sent.
  void serve(parentPort);
}

async function serve(port: MessagePort): Promise<void> {
  const engine = await loadQuickJS(WORKER_WASM_MEMORY_MAX_BYTES);
  port.on('message', (message: WorkerInbound) => port.postMessage(handle(engine, message)));
  port.postMessage({ kind: 'ready' } satisfies WorkerOutbound);
}

function handle(engine: QuickJSEngine, message: WorkerInbound): WorkerOutbound {
  return message.kind === 'validate' ? validate(engine, message.id, message.source) : run(engine, message.id, message.request);
}

function validate(engine: QuickJSEngine, id: number, source: string): WorkerOutbound {
  try {
    const validation = validateScript(engine, source);
    return { kind: 'validated', id, validation, recycle: engine.memory.byteLength > WORKER_RECYCLE_MEMORY_BYTES };
  } catch (error) {
    return { kind: 'validated', id, validation: unvalidated(error), recycle: true };
  }
}

function run(engine: QuickJSEngine, id: number, request: SandboxRequest): WorkerOutbound {
  try {
    const outcome = runScript(engine, request);
    // WASM memory never shrinks; a fresh thread is the only way to hand a large heap back.
    const recycle = engine.memory.byteLength > WORKER_RECYCLE_MEMORY_BYTES;
    return { kind: 'result', id, outcome, recycle };
  } catch (error) {
    // A host fault can leave QuickJS's C state half-unwound, so this module must not run again.
    return { kind: 'result', id, outcome: hostFaultOutcome(error, request), recycle: true };
  }
}

function hostFaultOutcome(error: unknown, request: SandboxRequest): RunOutcome {
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    return { ok: false, error: limitMessage('max_stack_size', request.limits), console: [] };
  }
  const detail = error instanceof Error ? error.message : String(error);
  return { ok: false, error: `sandbox failure: ${detail}`, console: [] };
}
