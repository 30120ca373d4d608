import type { IncomingMessage } from 'node:http';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  type OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { clientAddress, type TrustFunction, trustFunction } from '../config/trust-proxy';
import { JsonRpcDispatcher } from './json-rpc.dispatcher';
import {
  DEFAULT_WS_LIMITS,
  frameText,
  WS_GOING_AWAY_CLOSE_CODE,
  WS_GOING_AWAY_CLOSE_REASON,
  WS_MAX_PAYLOAD,
  WsConnection,
  type WsConnectionLimits,
} from './ws-connection';

/**
 * The one message every frame becomes. JSON-RPC frames carry no `event` field
 * for WsAdapter to route on, so the adapter's parser (below) names them all
 * this, and the frame's text is the message's data, unparsed: the dispatcher
 * parses it, and answers -32700 when it is not JSON.
 */
export const JSON_RPC_FRAME = 'json-rpc-frame';

/**
 * WsAdapter's `messageParser` for JSON-RPC: every frame, text or binary, goes
 * to the JSON-RPC gateways as its UTF-8 text. Pass it when creating the adapter:
 * `new WsAdapter(app, { messageParser: parseJsonRpcFrame })`.
 */
export function parseJsonRpcFrame(data: RawData | string): { event: string; data: string } {
  return { event: JSON_RPC_FRAME, data: frameText(data) };
}

/**
 * Options of the ws server behind each path. Port 0 (the default) puts the
 * gateways on the application's own HTTP server: WsAdapter answers upgrades
 * there and routes each to the gateway whose path matches exactly.
 */
const SERVER_OPTIONS = {
  maxPayload: WS_MAX_PAYLOAD,
  // Compression would cost CPU and memory per connection for replies that are sent once.
  perMessageDeflate: false,
} as const;

/**
 * JSON-RPC 2.0 over WebSocket, as NodeGet offers it: on the HTTP port and
 * paths, each text (or binary) frame a request or a batch, answered by the
 * same dispatcher as HTTP posts; each reply is a text frame carrying its ids,
 * in whatever order the calls finish. Per-connection limits: WsConnection.
 */
@Injectable()
export abstract class JsonRpcGateway implements OnGatewayInit<WebSocketServer>, OnGatewayConnection<WebSocket> {
  private readonly logger = new Logger(JsonRpcGateway.name);
  private readonly connections = new WeakMap<WebSocket, WsConnection>();
  private readonly limits: WsConnectionLimits;
  private readonly trust: TrustFunction | undefined;
  private wsServer?: WebSocketServer;
  private goingAway = false;

  constructor(
    private readonly dispatcher: JsonRpcDispatcher,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.limits = { ...DEFAULT_WS_LIMITS, idleTimeoutMs: config.wsIdleTimeoutMs, sendTimeoutMs: config.http.sendTimeoutMs };
    this.trust = trustFunction(config.trustProxy);
  }

  afterInit(server: WebSocketServer): void {
    this.wsServer = server;
  }

  /** The open connections on this path (server side), for diagnostics and tests. */
  get clients(): ReadonlySet<WebSocket> {
    return this.wsServer?.clients ?? new Set();
  }

  /**
   * Shutdown, once the server has stopped accepting: every connection answers
   * the calls it has taken and closes with 1001 (going away). Resolves when all have.
   */
  async goAway(): Promise<void> {
    this.goingAway = true;
    await Promise.all([...this.clients].map((client) => this.connections.get(client)?.goAway()));
  }

  /** Shutdown past its deadline: connections still busy are closed with 1001 now, their calls unanswered. */
  closeAll(): void {
    for (const client of this.clients) this.connections.get(client)?.close(WS_GOING_AWAY_CLOSE_CODE, WS_GOING_AWAY_CLOSE_REASON);
  }

  handleConnection(client: WebSocket, upgrade?: IncomingMessage): void {
    // By the same rule as an HTTP request's address (TRUST_PROXY): a forged header from anyone else is ignored.
    const peer = upgrade ? clientAddress(upgrade, this.trust) : 'unknown';
    const connection = new WsConnection(client, this.dispatcher, this.limits, this.logger, peer);
    this.connections.set(client, connection);
    // An upgrade that was under way when the server stopped accepting.
    if (this.goingAway) void connection.goAway();
  }

  @SubscribeMessage(JSON_RPC_FRAME)
  onFrame(@ConnectedSocket() client: WebSocket, @MessageBody() frame: string): void {
    // Replies are sent by the connection as calls finish; nothing is returned for WsAdapter to send.
    this.connections.get(client)?.receive(frame);
  }
}

/** `ws://host:PORT/` */
@WebSocketGateway({ path: '/', ...SERVER_OPTIONS })
export class JsonRpcRootGateway extends JsonRpcGateway {}

/** `ws://host:PORT/nodeget/rpc`, the path NodeGet clients use. */
@WebSocketGateway({ path: '/nodeget/rpc', ...SERVER_OPTIONS })
export class JsonRpcNodeGetGateway extends JsonRpcGateway {}
