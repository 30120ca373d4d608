import path from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { LIMIT_BOUNDS, NATIVE_STACK_PER_QUICKJS_BYTE } from './run-limits';

const ENTRY_BASENAME = 'sandbox.worker';

/** workerData key that tells sandbox.worker it really is the sandbox thread (and not merely imported). */
export const SANDBOX_WORKER_FLAG = 'jsWorkerSandbox';

/** Sized for the largest allowed QuickJS stack, so QuickJS's own check always fires before V8's. */
const NATIVE_STACK_MB = Math.ceil((LIMIT_BOUNDS.maxStackBytes.max * NATIVE_STACK_PER_QUICKJS_BYTE) / (1024 * 1024));

/**
 * Used only when this file runs as TypeScript (ts-jest, no build step): there is no compiled
 * sandbox.worker.js next to it, so the worker registers a minimal .ts loader built on the
 * project's own TypeScript compiler and then loads the entry from source. Builds never take
 * this path and never need TypeScript at runtime.
 */
const TRANSPILING_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const ts = require(workerData.typescriptPath);
require.extensions['.ts'] = (module, filename) => {
  const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  module._compile(outputText, filename);
};
require(workerData.entry);
`;

export function startSandboxWorker(): Worker {
  const options: WorkerOptions = {
    workerData: { [SANDBOX_WORKER_FLAG]: true },
    resourceLimits: { stackSizeMb: NATIVE_STACK_MB },
  };
  if (!__filename.endsWith('.ts')) return new Worker(path.join(__dirname, `${ENTRY_BASENAME}.js`), options);
  return new Worker(TRANSPILING_BOOTSTRAP, {
    ...options,
    eval: true,
    workerData: {
      [SANDBOX_WORKER_FLAG]: true,
      entry: path.join(__dirname, `${ENTRY_BASENAME}.ts`),
      typescriptPath: require.resolve('typescript'),
    },
  });
}
