import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { PinoLogger } from 'nestjs-pino';

/** The header a request id is read from and echoed in. */
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * An incoming id is kept only when it is a short token: it goes into every log
 * line of the request, so it must not be able to carry line breaks, quotes or bulk.
 */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * The request's id: the client's (or its proxy's) `x-request-id` when sane,
 * else a new UUID. Fastify's and pino-http's `genReqId`.
 */
export function requestIdOf(request: Pick<IncomingMessage, 'headers'>): string {
  const given = request.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * Every reply Fastify sends carries its request's id. JSON-RPC replies are
 * written by their controller, which sets the header itself (onSend does not
 * run for them, so they pay nothing here).
 */
export function echoRequestIds(fastify: FastifyInstance): void {
  fastify.addHook('onSend', (request, reply, payload, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    done(null, payload);
  });
}

/** A new id, for a request that came with no headers (a WebSocket frame). */
export const newRequestId = (): string => randomUUID();

/**
 * Runs `work` in a request's logging context (nestjs-pino's AsyncLocalStorage):
 * every line logged through Nest's Logger while it runs, awaits included,
 * carries `reqId`. Without a root logger (nothing logs) it just runs `work`.
 */
export function inRequestContext<T>(requestId: string, work: () => T): T {
  if (!PinoLogger.root) return work();
  // Any instance will do: the context is nestjs-pino's, shared by all of them, and its root is the app's.
  contexts ??= new PinoLogger({});
  return contexts.runInContext(work, { bindings: { reqId: requestId } });
}

let contexts: PinoLogger | undefined;
