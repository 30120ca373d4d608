import { Controller, Get, Header } from '@nestjs/common';
import { OpenRpcDocumentProvider } from './openrpc.document';

/** `GET /openrpc.json`: the OpenRPC document for tools that read it over plain HTTP (generators, playgrounds). */
@Controller()
export class OpenRpcHttpController {
  constructor(private readonly openRpc: OpenRpcDocumentProvider) {}

  @Get('openrpc.json')
  @Header('content-type', 'application/json; charset=utf-8')
  document(): string {
    return this.openRpc.text;
  }
}
