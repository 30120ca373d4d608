import type { ServerResponse } from 'node:http';
import {
  type ArgumentsHost,
  Catch,
  Controller,
  createParamDecorator,
  type ExecutionContext,
  HttpException,
  type HttpServer,
  HttpStatus,
  Inject,
  Ip,
  Post,
  Res,
} from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { JsonTextStream, type TextPiece } from '../common/json-text-stream';
import { replyBytes, type SentReply, WRITE_CHUNK_BYTES } from './json-rpc.codec';
import { JsonRpcDispatcher } from './json-rpc.dispatcher';
import { REQUEST_ID_HEADER } from './request-id';

/** NodeGet clients post to `/nodeget/rpc`; `/` serves everyone else. */
/** Request bodies up to this size are read, on the standalone server and on a host's; a JSON-RPC batch of 1000 small calls fits. */
export const BODY_LIMIT = 4 * 1024 * 1024;

export const JSON_RPC_PATHS = ['/', '/nodeget/rpc'];

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** The request body as text; see `readBodiesAsText`. */
const RequestText = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const body = context.switchToHttp().getRequest<FastifyRequest>().body;
  return typeof body === 'string' ? body : '';
});

/**
 * Drops the connection when the reply is not all handed to the client within
 * `ms`: a client that stops reading would otherwise keep the reply's bytes
 * in the server for as long as it keeps the connection.
 */
function dropUnlessTakenWithin(res: ServerResponse, ms: number): void {
  const timer = setTimeout(() => res.destroy(), ms).unref();
  const settle = () => clearTimeout(timer);
  res.once('finish', settle);
  res.once('close', settle);
}

function writePiece(res: ServerResponse, piece: Buffer): Promise<boolean> {
  return new Promise((resolve) => res.write(piece, (error) => resolve(!error)));
}

async function writeInPieces(res: ServerResponse, body: Buffer): Promise<void> {
  for (let at = 0; at < body.length; at += WRITE_CHUNK_BYTES) {
    // A failed write means the connection is gone (the client left, or was dropped for not reading).
    if (!(await writePiece(res, body.subarray(at, at + WRITE_CHUNK_BYTES))) || res.destroyed) return;
  }
  res.end();
}

/**
 * Writes `piece` and waits, at most `ms`, until the socket has taken all of
 * it: false when it did not in time, or the connection is gone (the client
 * left). Once true, the piece's memory is no longer the socket's (a streamed
 * piece's buffer is then filled again).
 */
function sent(res: ServerResponse, piece: TextPiece, ms: number): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    let settled = false;
    const done = (taken: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      res.off('close', gone);
      resolve(taken && !res.destroyed);
    };
    const gone = () => done(false);
    const timer = setTimeout(gone, Math.max(0, ms));
    res.on('close', gone);
    res.write(piece, (error) => done(!error));
  });
}

/**
 * Writes a streamed reply as it is read: a piece is read while the one
 * before is on its way, and none is read until the socket has taken all of
 * the one written (back-pressure, and a piece's buffer is reused for the
 * next), so the reply holds about two pieces here.
 * The client has `sendTimeoutMs` in all to take what it is sent (the time
 * the database takes to give the pieces is not its to answer for); past it,
 * or if the reply fails midway, the connection is dropped: the length was
 * announced, and a short body is how the client learns the reply is not
 * whole. The stream is closed on every path (its database connection given back).
 */
async function writeStreamed(res: ServerResponse, reply: JsonTextStream, sendTimeoutMs: number): Promise<void> {
  const gone = () => void reply.close();
  res.once('close', gone);
  let waited = 0;
  try {
    for (let piece = await reply.next(); piece !== undefined; piece = await reply.next()) {
      const since = performance.now();
      const taken = await sent(res, piece, sendTimeoutMs - waited);
      waited += performance.now() - since;
      if (!taken) {
        res.destroy();
        return;
      }
    }
    res.end();
  } catch {
    res.destroy();
  } finally {
    res.off('close', gone);
    await reply.close();
  }
}

/** Writes a JSON-RPC reply as the whole HTTP response, holding a client that stops reading to `sendTimeoutMs`. */
export function sendReply(res: ServerResponse, body: SentReply, sendTimeoutMs: number, requestId: string): void {
  const length = body instanceof JsonTextStream ? body.bytes : replyBytes(body);
  res.writeHead(200, { 'content-type': JSON_CONTENT_TYPE, 'content-length': length, [REQUEST_ID_HEADER]: requestId });
  if (body instanceof JsonTextStream) {
    void writeStreamed(res, body, sendTimeoutMs);
    return;
  }
  if (typeof body !== 'string' && body.length > WRITE_CHUNK_BYTES) {
    dropUnlessTakenWithin(res, sendTimeoutMs);
    void writeInPieces(res, body);
    return;
  }
  res.end(body);
  // A reply the kernel took at once leaves nothing buffered: the usual case, and no timer.
  if (res.socket && res.socket.writableLength > 0) dropUnlessTakenWithin(res, sendTimeoutMs);
}

/** JSON-RPC over HTTP: the body is the request, the reply body the answer. */
@Controller()
export class JsonRpcHttpController {
  private readonly sendTimeoutMs: number;

  constructor(
    private readonly dispatcher: JsonRpcDispatcher,
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'http'>,
  ) {
    this.sendTimeoutMs = config.http.sendTimeoutMs;
  }

  @Post(JSON_RPC_PATHS)
  async post(@RequestText() body: string, @Ip() peer: string, @Res() reply: FastifyReply): Promise<void> {
    // Fastify's id, made by requestIdOf (app.factory.ts): the client's x-request-id when sane.
    const requestId = reply.request.id;
    const answer = await this.dispatcher.handleStreaming(body, { peer, requestId });
    // The reply is finished JSON: it is written as it is, without Fastify's send pipeline
    // (onSend hooks, serialisation, content-type sniffing), a measurable share of a short read's cost (bench/README.md).
    reply.hijack();
    if (answer === undefined) {
      // Only notifications: JSON-RPC says nothing is returned.
      reply.raw.writeHead(204, { [REQUEST_ID_HEADER]: requestId }).end();
      return;
    }
    sendReply(reply.raw, answer, this.sendTimeoutMs, requestId);
  }
}

/**
 * Bodies are read as UTF-8 text whatever their Content-Type (clients often post
 * JSON as curl -d does, as form data), up to `limit` bytes; Fastify refuses a
 * larger one before any of it is parsed (see PayloadTooLargeFilter).
 */
export function readBodiesAsText(fastify: FastifyInstance, limit: number): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'string', bodyLimit: limit }, (_request, body, done) => done(null, body));
}

/**
 * Answers a body over the limit with 413 and closes the connection, since the
 * rest of the body is not read. Other HTTP errors are Nest's as usual.
 */
@Catch(HttpException)
export class PayloadTooLargeFilter extends BaseExceptionFilter {
  constructor(
    private readonly limit: number,
    httpAdapter: HttpServer,
  ) {
    super(httpAdapter);
  }

  override catch(exception: HttpException, host: ArgumentsHost): void {
    if (exception.getStatus() !== HttpStatus.PAYLOAD_TOO_LARGE || host.getType() !== 'http') {
      return super.catch(exception, host);
    }
    void host
      .switchToHttp()
      .getResponse<FastifyReply>()
      .code(HttpStatus.PAYLOAD_TOO_LARGE)
      .header('connection', 'close')
      .send({ statusCode: HttpStatus.PAYLOAD_TOO_LARGE, error: 'Payload Too Large', message: `The body exceeds ${this.limit} bytes` });
  }
}
