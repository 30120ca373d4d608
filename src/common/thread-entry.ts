import path from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Used only when the caller runs as TypeScript (ts-jest, no build step): there is no compiled
 * entry next to it, so the thread registers a minimal .ts loader built on the project's own
 * TypeScript compiler and then loads the entry from source.
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

/**
 * Starts a worker thread on the module `entryBasename` beside `callerFile` (pass `__filename`):
 * its compiled .js in a build, its .ts source under ts-jest. Builds never need TypeScript at run time.
 */
export function startThread(callerFile: string, entryBasename: string, options: WorkerOptions & { workerData: Record<string, unknown> }): Worker {
  const directory = path.dirname(callerFile);
  if (!callerFile.endsWith('.ts')) return new Worker(path.join(directory, `${entryBasename}.js`), options);
  return new Worker(TRANSPILING_BOOTSTRAP, {
    ...options,
    eval: true,
    workerData: { ...options.workerData, entry: path.join(directory, `${entryBasename}.ts`), typescriptPath: require.resolve('typescript') },
  });
}
