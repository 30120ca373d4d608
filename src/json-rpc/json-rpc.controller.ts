import { Controller, Header, HttpCode, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { JsonRpcDispatcher } from './json-rpc.dispatcher';
import { RawBody } from './raw-body.decorator';

/** NodeGet clients post to `/nodeget/rpc`; `/` serves everyone else. */
@Controller()
export class JsonRpcController {
  constructor(private readonly dispatcher: JsonRpcDispatcher) {}

  @Post(['/', '/nodeget/rpc'])
  @HttpCode(200)
  @Header('Content-Type', 'application/json; charset=utf-8')
  async call(@RawBody() body: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const answer = await this.dispatcher.handle(body);
    if (answer === undefined) {
      // Only notifications: JSON-RPC says nothing is returned.
      reply.status(204);
      return '';
    }
    return answer;
  }
}
