/**
 * Entry point of a sandbox worker thread: loads QuickJS once, then runs or validates one script
 * per message. A thread only ever holds one job (the pool never sends a second before the first
 * is answered); while the job waits for answers to its host calls, the thread only waits.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { loadQuickJS, type QuickJSEngine } from './quickjs.loader';
import { WORKER_RECYCLE_MEMORY_BYTES, WORKER_WASM_MEMORY_MAX_BYTES } from './run-limits';
import type { RunOutcome } from './runtime.types';
import { limitMessage } from './sandbox.errors';
import { SANDBOX_WORKER_FLAG } from './sandbox.launcher';
import type { HostAnswer } from './host-calls';
import type { SandboxChannel } from './quickjs.sandbox';
import type { HostCallAnswer, SandboxRequest, WorkerInbound, WorkerOutbound } from './sandbox.protocol';
import { RuntimeKeeper } from './runtime.keeper';
import { runScript } from './script-runner';
import { unvalidated, validateScript } from './script-validator';

const isSandboxThread = parentPort !== null && (workerData as Record<string, unknown> | null)?.[SANDBOX_WORKER_FLAG] === true;

if (isSandboxThread && parentPort !== null) {
  // A load failure rejects unhandled on purpose: the thread dies, and the pool fails the job it sent.
  void serve(parentPort);
}

async function serve(port: MessagePort): Promise<void> {
  const engine = await loadQuickJS(WORKER_WASM_MEMORY_MAX_BYTES);
  const keeper = new RuntimeKeeper(engine);
  const answers = new AnswerQueue();
  port.on('message', (message: WorkerInbound) => {
    if (message.kind === 'answer') answers.push(message);
    else void handle(engine, keeper, port, answers, message).then((reply) => port.postMessage(reply));
  });
  port.postMessage({ kind: 'ready' } satisfies WorkerOutbound);
}

function handle(
  engine: QuickJSEngine,
  keeper: RuntimeKeeper,
  port: MessagePort,
  answers: AnswerQueue,
  message: Exclude<WorkerInbound, HostCallAnswer>,
): Promise<WorkerOutbound> {
  if (message.kind === 'validate') return validate(engine, message.id, message.source);
  answers.begin(message.id);
  const channel = message.request.hosted ? channelFor(port, answers, message.id, message.request) : undefined;
  return run(engine, keeper, message.id, message.request, channel);
}

async function validate(engine: QuickJSEngine, id: number, source: string): Promise<WorkerOutbound> {
  try {
    const validation = await validateScript(engine, source);
    return { kind: 'validated', id, validation, recycle: engine.memory.byteLength > WORKER_RECYCLE_MEMORY_BYTES };
  } catch (error) {
    return { kind: 'validated', id, validation: unvalidated(error), recycle: true };
  }
}

async function run(
  engine: QuickJSEngine,
  keeper: RuntimeKeeper,
  id: number,
  request: SandboxRequest,
  channel: SandboxChannel | undefined,
): Promise<WorkerOutbound> {
  try {
    const outcome = await runScript(engine, request, channel, keeper);
    // WASM memory never shrinks; a fresh thread is the only way to hand a large heap back.
    const recycle = engine.memory.byteLength > WORKER_RECYCLE_MEMORY_BYTES;
    return { kind: 'result', id, outcome, recycle };
  } catch (error) {
    // A host fault can leave QuickJS's C state half-unwound, so this module must not run again.
    return { kind: 'result', id, outcome: hostFaultOutcome(error, request), recycle: true };
  }
}

function channelFor(port: MessagePort, answers: AnswerQueue, id: number, request: SandboxRequest): SandboxChannel {
  return {
    settings: request.host,
    send: (callId, call, payload) => port.postMessage({ kind: 'call', id, callId, call, payload } satisfies WorkerOutbound),
    log: (line) => port.postMessage({ kind: 'log', id, line } satisfies WorkerOutbound),
    next: (deadline) => answers.next(deadline),
  };
}

/**
 * Answers to the running job's host calls, in arrival order. Answers for an earlier job (it
 * ended before they came) are dropped when the next job begins or as they arrive.
 */
class AnswerQueue {
  private jobId = -1;
  private readonly queued: HostCallAnswer[] = [];
  private waiter?: (answer: HostCallAnswer | undefined) => void;

  begin(jobId: number): void {
    this.jobId = jobId;
    this.queued.length = 0;
  }

  push(answer: HostCallAnswer): void {
    if (answer.id !== this.jobId) return;
    const waiter = this.waiter;
    if (waiter === undefined) {
      this.queued.push(answer);
      return;
    }
    this.waiter = undefined;
    waiter(answer);
  }

  async next(deadline: number): Promise<{ callId: number; answer: HostAnswer } | undefined> {
    const first = this.queued.shift() ?? (await this.wait(deadline));
    return first === undefined ? undefined : { callId: first.callId, answer: first.answer };
  }

  private wait(deadline: number): Promise<HostCallAnswer | undefined> {
    const remaining = deadline - performance.now();
    if (remaining <= 0) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve(undefined);
      }, Math.ceil(remaining));
      this.waiter = (answer) => {
        clearTimeout(timer);
        resolve(answer);
      };
    });
  }
}

function hostFaultOutcome(error: unknown, request: SandboxRequest): RunOutcome {
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    return { ok: false, error: limitMessage('max_stack_size', request.limits), console: [] };
  }
  const detail = error instanceof Error ? error.message : String(error);
  return { ok: false, error: `sandbox failure: ${detail}`, console: [] };
}
