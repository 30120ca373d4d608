import type { Worker } from 'node:worker_threads';
import { startThread } from '../../common/thread-entry';
import { LIMIT_BOUNDS, NATIVE_STACK_PER_QUICKJS_BYTE } from './run-limits';

const ENTRY_BASENAME = 'sandbox.worker';

/** workerData key that tells sandbox.worker it really is the sandbox thread (and not merely imported). */
export const SANDBOX_WORKER_FLAG = 'jsWorkerSandbox';

/** Sized for the largest allowed QuickJS stack, so QuickJS's own check always fires before V8's. */
const NATIVE_STACK_MB = Math.ceil((LIMIT_BOUNDS.maxStackBytes.max * NATIVE_STACK_PER_QUICKJS_BYTE) / (1024 * 1024));

export function startSandboxWorker(): Worker {
  return startThread(__filename, ENTRY_BASENAME, {
    workerData: { [SANDBOX_WORKER_FLAG]: true },
    resourceLimits: { stackSizeMb: NATIVE_STACK_MB },
  });
}
