import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest, RequestPayload, RouteOptions } from 'fastify';
import { RouteFailure } from './worker-route.errors';
import { writeRouteFailure } from './worker-route.reply';

/** The `@RouteConfig` flag that marks a route as a worker route, whose body is read here as bytes. */
export const WORKER_ROUTE_CONFIG = { workerRoute: true } as const;

/** Where the bytes read for a worker route are kept for its handler. */
const BODY = Symbol('workerRouteBody');

type WithBody = FastifyRequest & { [BODY]?: Buffer };

const EMPTY = Buffer.alloc(0);

/** The request's body as the route read it; empty when it had none. */
export function routeBodyOf(request: FastifyRequest): Buffer {
  return (request as WithBody)[BODY] ?? EMPTY;
}

/**
 * Worker routes read their bodies as bytes, up to `maxBytes`. Every other
 * route reads its body as text through the one content-type parser of the
 * app (readBodiesAsText), so the worker routes get a preParsing hook of their
 * own instead, added as they are registered (an onRoute hook: they are marked
 * with WORKER_ROUTE_CONFIG). It reads the payload, refusing with 413 as soon as
 * the declared or received length passes the limit (nothing past the limit is
 * held), and hands the parser an empty stream.
 *
 * Must be called before the routes are registered (before app.init()).
 */
export function readWorkerRouteBodies(fastify: FastifyInstance, maxBytes: number): void {
  fastify.addHook('onRoute', (route: RouteOptions) => {
    if ((route.config as { workerRoute?: boolean } | undefined)?.workerRoute !== true) return;
    // The text parser compares this limit with the declared length before the hook's empty stream.
    route.bodyLimit = maxBytes;
    const existing = route.preParsing === undefined ? [] : [route.preParsing].flat();
    route.preParsing = [...existing, (request, reply, payload, done) => readBody(request, reply, payload, maxBytes, done)];
  });
}

type Done = (error?: Error | null, payload?: RequestPayload) => void;

/** What reading a body came to: its bytes, too many of them, or the stream's error. */
type Collected = Buffer | 'too large' | Error;

function readBody(request: FastifyRequest, reply: FastifyReply, payload: RequestPayload, maxBytes: number, done: Done): void {
  if (!hasBody(request)) {
    done(null, payload);
    return;
  }
  if (Number(request.headers['content-length']) > maxBytes) {
    tooLarge(reply, maxBytes);
    done();
    return;
  }
  collect(payload, maxBytes, (collected) => {
    if (collected === 'too large') {
      tooLarge(reply, maxBytes);
      done();
    } else if (collected instanceof Error) {
      done(collected);
    } else {
      (request as WithBody)[BODY] = collected;
      done(null, emptyPayload(collected.length));
    }
  });
}

/** Reads `stream` to its end, or stops (and pauses it) as soon as more than `maxBytes` came. */
function collect(stream: RequestPayload, maxBytes: number, finish: (collected: Collected) => void): void {
  const chunks: Buffer[] = [];
  let received = 0;
  const settle = (collected: Collected) => {
    stream.off('data', onData);
    stream.off('end', onEnd);
    stream.off('error', settle);
    // A client that goes away after this must not become an unhandled 'error' event.
    stream.on('error', ignore);
    finish(collected);
  };
  const onData = (chunk: Buffer | string) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    received += bytes.length;
    if (received <= maxBytes) {
      chunks.push(bytes);
      return;
    }
    stream.pause();
    settle('too large');
  };
  const onEnd = () => settle(Buffer.concat(chunks, received));
  stream.on('data', onData);
  stream.on('end', onEnd);
  stream.on('error', settle);
}

const ignore = () => undefined;

/** What the text parser then reads: nothing, though as many bytes as the declared length said were received. */
function emptyPayload(received: number): RequestPayload {
  const empty = Readable.from([]) as RequestPayload & { receivedEncodedLength?: number };
  empty.receivedEncodedLength = received;
  return empty;
}

/** As Fastify decides whether to parse a body: GET and HEAD never, others when a length or an encoding is given. */
function hasBody(request: FastifyRequest): boolean {
  if (request.method === 'GET' || request.method === 'HEAD') return false;
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** The rest of the body is not read, so the connection cannot carry another request. */
function tooLarge(reply: FastifyReply, maxBytes: number): void {
  writeRouteFailure(reply, new RouteFailure(413, `the request body exceeds ${maxBytes} bytes`), true);
}
