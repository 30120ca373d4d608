import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { call, queryParams, rpc } from './test-app';

export const b64 = (source: string) => Buffer.from(source, 'utf8').toString('base64');

/** The body of a JSON-RPC reply to one call. */
export async function rpcCall(app: NestFastifyApplication, method: string, params: unknown): Promise<any> {
  return (await rpc(app, call(method, params))).body;
}

export interface WorkerOptions {
  description?: string | null;
  env?: unknown;
  max_run_time?: number | null;
  max_stack_size?: number | null;
  max_heap_size?: number | null;
  route_name?: string | null;
}

export function createWorker(app: NestFastifyApplication, token: string, name: string, source: string, options: WorkerOptions = {}) {
  return rpcCall(app, 'js-worker_create', { token, name, js_script_base64: b64(source), ...options });
}

export function runWorker(app: NestFastifyApplication, token: string, name: string, extra: Record<string, unknown> = {}) {
  return rpcCall(app, 'js-worker_run', { token, js_script_name: name, ...extra });
}

/** The js_result row with this id, as js-result_query returns it. */
export async function resultRow(app: NestFastifyApplication, token: string, id: number): Promise<any> {
  const body = await rpcCall(app, 'js-result_query', queryParams(token, [{ id }]));
  if (body.error) throw new Error(`js-result_query failed: ${JSON.stringify(body.error)}`);
  return body.result[0];
}

/** Polls js-result_query until the run has finished; fails after `timeoutMs`. */
export async function waitFinished(app: NestFastifyApplication, token: string, id: number, timeoutMs = 20_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await resultRow(app, token, id);
    if (row && row.finish_time !== null) return row;
    if (Date.now() > deadline) throw new Error(`js_result ${id} still running after ${timeoutMs} ms: ${JSON.stringify(row)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Creates (if needed) and runs a worker, and waits for the outcome. */
export async function runToEnd(
  app: NestFastifyApplication,
  token: string,
  name: string,
  extra: Record<string, unknown> = {},
  timeoutMs?: number,
): Promise<any> {
  const started = await runWorker(app, token, name, extra);
  if (!started.result) throw new Error(`js-worker_run failed: ${JSON.stringify(started.error)}`);
  return waitFinished(app, token, started.result.id, timeoutMs);
}
