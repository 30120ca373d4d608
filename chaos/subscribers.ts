import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';

const NOTIFICATION_START = '{"jsonrpc":"2.0","method":"js-result_subscription"';

/** A WebSocket client holding subscriptions; it counts the notifications it reads, or stops reading. */
export interface Subscriber {
  /** The client's TCP socket, to watch the server side of it (CutWatcher). */
  socket: Socket;
  ws: WebSocket;
  notifications(): number;
  /** Frames other than notifications (replies), as text. */
  replies: string[];
  /** Close code and reason, once closed. */
  closed?: { code: number; reason: string };
  stop(): void;
}

/**
 * Opens a WebSocket to the service, subscribes `subscriptions` times to
 * `condition` in one batch, and once subscribed keeps reading (counting the
 * notifications, unparsed) or, with `read: false`, stops reading its socket.
 */
export function subscriber(port: number, token: string, subscriptions: number, options: { read: boolean; condition?: unknown[] }): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    let socket: Socket | undefined;
    const createConnection = () => (socket = connect(port, '127.0.0.1'));
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false, createConnection });
    let count = 0;
    let subscribed = false;
    const client: Subscriber = {
      get socket() {
        return socket!;
      },
      ws,
      notifications: () => count,
      replies: [],
      stop: () => ws.terminate(),
    };
    ws.on('error', () => undefined);
    ws.once('unexpected-response', () => reject(new Error('WebSocket upgrade refused')));
    ws.once('close', (code, reason) => (client.closed = { code, reason: reason.toString() }));
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith(NOTIFICATION_START)) {
        count++;
        return;
      }
      client.replies.push(text);
      if (subscribed) return;
      subscribed = true;
      const failed = (JSON.parse(text) as { error?: unknown }[]).filter((reply) => reply.error !== undefined);
      if (failed.length > 0) return reject(new Error(`subscribing failed: ${JSON.stringify(failed[0])}`));
      if (!options.read) ws.pause();
      resolve(client);
    });
    ws.once('open', () => {
      const params = { token, query: { condition: options.condition ?? [] } };
      ws.send(JSON.stringify(Array.from({ length: subscriptions }, (_, i) => ({ jsonrpc: '2.0', id: i + 1, method: 'js-result_subscribe', params }))));
    });
  });
}
