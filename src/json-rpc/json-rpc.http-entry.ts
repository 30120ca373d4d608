import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { Logger } from '@nestjs/common';
import { stringifyJson } from './json-rpc.codec';
import { JsonRpcErrorCode } from './json-rpc.types';

/** NodeGet clients post to `/nodeget/rpc`; `/` serves everyone else. */
export const JSON_RPC_PATHS: ReadonlySet<string> = new Set(['/', '/nodeget/rpc']);

/** What the entry needs of the dispatcher: a reply body for a request body, or nothing to answer. */
export interface JsonRpcBodyHandler {
  handle(body: string): Promise<string | undefined>;
}

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

const INTERNAL_ERROR_REPLY = stringifyJson({
  jsonrpc: '2.0',
  id: null,
  error: { code: JsonRpcErrorCode.InternalError, message: 'Internal error' },
});

function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * Reads the body as UTF-8 text whatever its Content-Type (clients often post
 * JSON as curl -d does). Resolves undefined when it is larger than `limit`.
 */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  if (Number(req.headers['content-length'] ?? 0) > limit) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        resolve(undefined);
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => resolve(Buffer.concat(chunks, size).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, answer: string | undefined): void {
  if (answer === undefined) {
    // Only notifications: JSON-RPC says nothing is returned.
    res.writeHead(204).end();
    return;
  }
  res.writeHead(200, { 'content-type': JSON_CONTENT_TYPE, 'content-length': Buffer.byteLength(answer) }).end(answer);
}

function sendTooLarge(res: ServerResponse, limit: number): void {
  const body = JSON.stringify({ statusCode: 413, error: 'Payload Too Large', message: `The body exceeds ${limit} bytes` });
  // The rest of the body is not read, so the connection cannot carry another request.
  res.writeHead(413, { 'content-type': JSON_CONTENT_TYPE, 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

/**
 * The HTTP side of JSON-RPC: POSTs to the JSON-RPC paths are answered here,
 * on node:http, and every other request goes on to Fastify (health, metrics,
 * 404s). The endpoint needs nothing Fastify or Nest's router add per request
 * (routing among two paths, hooks, parsers, pipes, filters: the dispatcher
 * answers every failure itself), and in the benchmark that per-request
 * machinery cost more CPU than the dispatcher and the query together
 * (bench/README.md, "Where the service's time goes").
 */
export class JsonRpcHttpEntry {
  private readonly logger = new Logger(JsonRpcHttpEntry.name);
  private handler?: JsonRpcBodyHandler;

  constructor(private readonly bodyLimit: number) {}

  /** Until a handler is attached (while the app starts) every request goes on to Fastify. */
  attach(handler: JsonRpcBodyHandler): void {
    this.handler = handler;
  }

  /** A request listener that serves JSON-RPC and hands everything else to `next`. */
  listener(next: RequestListener): RequestListener {
    return (req, res) => {
      const handler = this.handler;
      if (handler !== undefined && req.method === 'POST' && JSON_RPC_PATHS.has(pathOf(req.url))) {
        this.serve(req, res, handler);
      } else {
        next(req, res);
      }
    };
  }

  private serve(req: IncomingMessage, res: ServerResponse, handler: JsonRpcBodyHandler): void {
    readBody(req, this.bodyLimit).then(
      async (body) => {
        if (body === undefined) return sendTooLarge(res, this.bodyLimit);
        send(res, await this.answer(handler, body));
      },
      // The client went away in the middle of its body: there is nobody to answer.
      () => res.destroy(),
    );
  }

  private async answer(handler: JsonRpcBodyHandler, body: string): Promise<string | undefined> {
    try {
      return await handler.handle(body);
    } catch (error) {
      // The dispatcher answers every failure of a call itself; this is a bug, and nothing of it is sent.
      this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      return INTERNAL_ERROR_REPLY;
    }
  }
}
