import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type WebSocket, WebSocketServer } from 'ws';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { JSR_RESOLVED_OPTIONS } from '../config/config.module';
import type { ResolvedServiceOptions } from '../config/service.options';
import { clientAddress, type TrustFunction, trustFunction } from '../config/trust-proxy';
import { JsonRpcDispatcher } from './json-rpc.dispatcher';
import { BODY_LIMIT, sendReply } from './json-rpc.http.controller';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id';
import { DEFAULT_WS_LIMITS, frameText, WS_GOING_AWAY_CLOSE_CODE, WS_GOING_AWAY_CLOSE_REASON, WS_MAX_PAYLOAD, WsConnection, type WsConnectionLimits } from './ws-connection';

/** As the standalone server's CORS (cors/cors.options.ts): no credentials, the request id readable. */
const CORS_PREFLIGHT_HEADERS = {
  'access-control-allow-methods': 'GET, POST',
  'access-control-allow-headers': 'Content-Type, X-Request-Id',
  'access-control-max-age': '600',
};

type Listener = (...args: any[]) => void;

/**
 * JSON-RPC on an embedding application's own HTTP server (Fastify or Express
 * alike), at the configured paths: POST bodies and WebSocket upgrades there
 * are taken off the server's `request` and `upgrade` events before the
 * application's adapter sees them; every other request goes to the
 * application's listeners unchanged.
 *
 * Why the server's events rather than routes of the host's adapter: a route
 * would run the host's body parsers (which turn JSON into objects, losing
 * 64-bit integers, and refuse unknown content types), middleware and global
 * guards, differently on each adapter; and a WebSocket adapter on the host
 * would answer upgrades of paths it does not know with an error. Bodies are
 * read as UTF-8 text and answered by the same dispatcher and reply writer as
 * the standalone server's.
 */
@Injectable()
export class JsonRpcServerAttachment implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(JsonRpcServerAttachment.name);
  private readonly paths: ReadonlySet<string>;
  private readonly limits: WsConnectionLimits;
  private readonly trust: TrustFunction | undefined;
  private readonly sendTimeoutMs: number;
  private readonly shutdownTimeoutMs: number;
  private readonly corsOrigins: readonly string[];
  private readonly wsServer = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_PAYLOAD, perMessageDeflate: false });
  private readonly connections = new Map<WebSocket, WsConnection>();
  private detach?: () => void;

  constructor(
    private readonly dispatcher: JsonRpcDispatcher,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(JSR_RESOLVED_OPTIONS) options: ResolvedServiceOptions,
  ) {
    this.paths = new Set(options.paths);
    this.limits = { ...DEFAULT_WS_LIMITS, idleTimeoutMs: config.wsIdleTimeoutMs, sendTimeoutMs: config.http.sendTimeoutMs };
    this.trust = trustFunction(config.trustProxy);
    this.sendTimeoutMs = config.http.sendTimeoutMs;
    this.shutdownTimeoutMs = config.shutdown.timeoutMs;
    this.corsOrigins = config.corsOrigins;
  }

  /** The open WebSocket connections (server side), for diagnostics and tests. */
  get clients(): ReadonlySet<WebSocket> {
    return this.wsServer.clients;
  }

  /** After every module's init, so that listeners the host (or its WebSocket adapter) added are all there. */
  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server) throw new Error('JsResultServiceModule needs an HTTP application (NestFactory.create), not a standalone context');
    const offRequest = this.intercept(server, 'request', (request, response: ServerResponse) => {
      if (request.method === 'OPTIONS' && this.corsOrigins.length > 0) return this.preflight(request, response);
      if (request.method !== 'POST') return false;
      this.allowOrigin(request, response);
      void this.answer(request, response);
      return true;
    });
    const offUpgrade = this.intercept(server, 'upgrade', (request, socket: Duplex, head: Buffer) => {
      this.wsServer.handleUpgrade(request, socket, head, (client) => this.connect(client, request));
      return true;
    });
    this.detach = () => {
      offRequest();
      offUpgrade();
    };
  }

  /** First of the shutdown hooks: connections answer what they took and close (1001), within the shutdown timeout. */
  async onModuleDestroy(): Promise<void> {
    this.detach?.();
    const all = [...this.connections.values()];
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.shutdownTimeoutMs)));
    await Promise.race([Promise.all(all.map((connection) => connection.goAway())), late]);
    clearTimeout(timer);
    for (const connection of this.connections.values()) connection.close(WS_GOING_AWAY_CLOSE_CODE, WS_GOING_AWAY_CLOSE_REASON);
    await new Promise<void>((resolve) => this.wsServer.close(() => resolve()));
  }

  /**
   * Puts one listener in place of the server's `event` listeners: it takes what
   * `take` accepts for the configured paths, and hands everything else to them.
   * Returns what restores them.
   */
  private intercept(server: Server, event: 'request' | 'upgrade', take: (request: IncomingMessage, ...rest: any[]) => boolean): () => void {
    const others = server.listeners(event) as Listener[];
    const route: Listener = (request: IncomingMessage, ...rest: unknown[]) => {
      if (this.paths.has(pathOf(request.url)) && take(request, ...rest)) return;
      // Node drops an upgrade nobody listens for; with this listener in place, that falls to it.
      if (others.length === 0 && event === 'upgrade') return (rest[0] as Duplex).destroy();
      for (const listener of others) listener.call(server, request, ...rest);
    };
    server.removeAllListeners(event);
    server.on(event, route);
    return () => {
      server.off(event, route);
      for (const listener of others) server.on(event, listener);
    };
  }

  /** CORS_ORIGINS (`corsOrigins`) for the mounted paths: the host's own CORS settings never see these requests. */
  private allowOrigin(request: IncomingMessage, response: ServerResponse): boolean {
    if (this.corsOrigins.length === 0) return false;
    const origin = request.headers.origin;
    const any = this.corsOrigins.length === 1 && this.corsOrigins[0] === '*';
    if (!any) response.setHeader('vary', 'Origin');
    if (origin === undefined || !(any || this.corsOrigins.includes(origin))) return false;
    response.setHeader('access-control-allow-origin', any ? '*' : origin);
    response.setHeader('access-control-expose-headers', REQUEST_ID_HEADER);
    return true;
  }

  private preflight(request: IncomingMessage, response: ServerResponse): boolean {
    if (this.allowOrigin(request, response)) for (const [name, value] of Object.entries(CORS_PREFLIGHT_HEADERS)) response.setHeader(name, value);
    response.writeHead(204, { 'content-length': 0 }).end();
    return true;
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = requestIdOf(request);
    const body = await readText(request, BODY_LIMIT);
    if (body === undefined) {
      const text = JSON.stringify({ statusCode: 413, error: 'Payload Too Large', message: `The body exceeds ${BODY_LIMIT} bytes` });
      response.writeHead(413, { 'content-type': 'application/json; charset=utf-8', connection: 'close', [REQUEST_ID_HEADER]: requestId }).end(text);
      return;
    }
    try {
      const answer = await this.dispatcher.handleStreaming(body, { peer: clientAddress(request, this.trust), requestId });
      if (answer === undefined) response.writeHead(204, { [REQUEST_ID_HEADER]: requestId }).end();
      else sendReply(response, answer, this.sendTimeoutMs, requestId);
    } catch (err) {
      // The dispatcher answers every failure of a call itself; this is a bug, and the request must still end.
      this.logger.error({ err }, 'JSON-RPC request failed');
      if (!response.headersSent) response.writeHead(500).end();
    }
  }

  private connect(client: WebSocket, upgrade: IncomingMessage): void {
    const connection = new WsConnection(client, this.dispatcher, this.limits, this.logger, clientAddress(upgrade, this.trust));
    this.connections.set(client, connection);
    client.on('message', (data) => connection.receive(frameText(data)));
    client.once('close', () => this.connections.delete(client));
    // A protocol error (a frame over maxPayload, say) closes the connection; unheard, it would throw.
    client.on('error', () => undefined);
  }
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** The body as UTF-8 text, or undefined (and the rest left unread) past `limit` bytes. */
function readText(request: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.removeAllListeners('data');
        request.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    request.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.once('error', reject);
  });
}
