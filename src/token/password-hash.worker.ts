import { scryptSync } from 'node:crypto';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';

/** One password hash to compute (see PasswordHashThread). */
export interface HashJob {
  id: number;
  password: string;
  salt: Uint8Array;
  keylen: number;
  options: { N: number; r: number; p: number; maxmem: number };
}

/** The answer to a HashJob, or to a question about the thread itself (`niceness`, id 0). */
export type HashReply = { id: number; hash: Uint8Array } | { id: number; error: string } | { id: 0; niceness: number };

const port = parentPort;
if (port === null) throw new Error('password-hash.worker runs as a worker thread');

try {
  // On Linux, pid 0 names the calling thread: only this thread gets the lower priority.
  setPriority(0, (workerData as { niceness: number }).niceness);
} catch {
  // Not permitted here: the hashes run at the process's priority, as they did on libuv's pool.
}

port.on('message', (job: HashJob | { id: 0 }) => {
  if (job.id === 0) {
    port.postMessage({ id: 0, niceness: getPriority(0) } satisfies HashReply);
    return;
  }
  const { id, password, salt, keylen, options } = job as HashJob;
  try {
    port.postMessage({ id, hash: scryptSync(password, salt, keylen, options) } satisfies HashReply);
  } catch (error) {
    port.postMessage({ id, error: error instanceof Error ? error.message : String(error) } satisfies HashReply);
  }
});
