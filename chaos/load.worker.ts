import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { batchBody, type LoopLoad, loop, type Reply } from './rpc-client';

/** Bodies a load in a worker thread can send: one fixed body, or logins for a fresh unknown account each call. */
export type WorkerBody = { fixed: string } | { loginFlood: { calls: number; prefix: string; worker: string } };

export type WorkerLoad = Omit<LoopLoad, 'body' | 'clock' | 'until'> & {
  body: WorkerBody;
  /** performance.timeOrigin + performance.now() of the caller's clock start, so replies' times share its clock. */
  clockOrigin: number;
};

function bodyOf(body: WorkerBody): string | (() => string) {
  if ('fixed' in body) return body.fixed;
  const { calls, prefix, worker } = body.loginFlood;
  let login = 0;
  return () =>
    batchBody(calls, () => ({
      method: 'js-result_query',
      params: { token: `${prefix}${login++}|wrong-password`, query: { condition: [{ js_worker_name: worker }] } },
    }));
}

/**
 * Runs a load on a thread of its own. An attacker's replies (32 MiB batches
 * to read and parse) would otherwise stall the event loop that times the
 * victims' calls, and their latency would be the client's, not the server's.
 */
export function loopInWorker(load: WorkerLoad): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(__filename, { workerData: load });
    worker.once('message', (replies: Reply[]) => resolve(replies));
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`load worker exited with ${code}`)));
  });
}

if (!isMainThread && parentPort) {
  const load = workerData as WorkerLoad;
  const clock = () => performance.timeOrigin + performance.now() - load.clockOrigin;
  void loop({ ...load, body: bodyOf(load.body), clock }).then((replies) => parentPort?.postMessage(replies));
}
