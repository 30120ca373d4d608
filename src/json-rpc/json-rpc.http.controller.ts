import {
  type ArgumentsHost,
  Catch,
  Controller,
  createParamDecorator,
  type ExecutionContext,
  HttpException,
  type HttpServer,
  HttpStatus,
  Ip,
  Post,
  Res,
} from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { JsonRpcDispatcher } from './json-rpc.dispatcher';
import { RpcRequest } from './rpc-request';

/** NodeGet clients post to `/nodeget/rpc`; `/` serves everyone else. */
export const JSON_RPC_PATHS = ['/', '/nodeget/rpc'];

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** The request body as text; see `readBodiesAsText`. */
const RequestText = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const body = context.switchToHttp().getRequest<FastifyRequest>().body;
  return typeof body === 'string' ? body : '';
});

/** JSON-RPC over HTTP: the body is the request, the reply body the answer. */
@Controller()
export class JsonRpcHttpController {
  constructor(private readonly dispatcher: JsonRpcDispatcher) {}

  @Post(JSON_RPC_PATHS)
  async post(@RequestText() body: string, @Ip() peer: string, @Res() reply: FastifyReply): Promise<void> {
    const answer = await this.dispatcher.handle(body, new RpcRequest(peer));
    // The reply is a finished string: it is written as it is, without Fastify's send pipeline
    // (onSend hooks, serialisation, content-type sniffing), which cost about 10% of S1's throughput.
    reply.hijack();
    if (answer === undefined) {
      // Only notifications: JSON-RPC says nothing is returned.
      reply.raw.writeHead(204).end();
      return;
    }
    reply.raw.writeHead(200, { 'content-type': JSON_CONTENT_TYPE, 'content-length': Buffer.byteLength(answer) }).end(answer);
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
