import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type ClientOptions, WebSocket } from 'ws';

export interface CloseInfo {
  code: number;
  reason: string;
}

/** Every client not yet closed, so that a suite can close them all in afterAll. */
const openClients = new Set<WsRpcClient>();

/** `ws://127.0.0.1:PORT/path` of an app that is listening (`app.listen(0, '127.0.0.1')`). */
export function wsUrl(app: NestFastifyApplication, path = '/'): string {
  const { port } = app.getHttpServer().address() as AddressInfo;
  return `ws://127.0.0.1:${port}${path}`;
}

/**
 * A JSON-RPC client over the off-the-shelf `ws` client: sends frames and hands
 * out the frames received, in arrival order, parsed.
 */
export class WsRpcClient {
  /** Resolves when the connection has closed, with the code and reason the client saw. */
  readonly closed: Promise<CloseInfo>;
  private readonly frames: string[] = [];
  private readonly waiters: Array<(frame: string) => void> = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const text = data.toString();
      const waiter = this.waiters.shift();
      if (waiter) waiter(text);
      else this.frames.push(text);
    });
    // A failed connection reports an error and then closes; the close is what the tests look at.
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => {
      socket.once('close', (code, reason) => {
        openClients.delete(this);
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  static connect(url: string, options?: ClientOptions): Promise<WsRpcClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, options);
      const client = new WsRpcClient(socket);
      openClients.add(client);
      socket.once('open', () => resolve(client));
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  /** Sends a value as a JSON text frame, or a string as it is. */
  send(payload: unknown): void {
    this.socket.send(typeof payload === 'string' ? payload : JSON.stringify(payload));
  }

  /** Sends text in a binary frame. */
  sendBinary(text: string): void {
    this.socket.send(Buffer.from(text, 'utf8'), { binary: true });
  }

  /** The next frame received, as text. */
  nextText(timeoutMs = 10_000): Promise<string> {
    const frame = this.frames.shift();
    if (frame !== undefined) return Promise.resolve(frame);
    return new Promise((resolve, reject) => {
      const waiter = (text: string) => {
        clearTimeout(timer);
        resolve(text);
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no frame within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** The next frame received, parsed. */
  async next(timeoutMs?: number): Promise<any> {
    return JSON.parse(await this.nextText(timeoutMs));
  }

  /** Sends one request or batch and returns the next frame, parsed (for one call at a time). */
  async call(payload: unknown, timeoutMs?: number): Promise<any> {
    this.send(payload);
    return this.next(timeoutMs);
  }

  /** Sends one request or batch and returns the next frame as text. */
  callText(payload: unknown, timeoutMs?: number): Promise<string> {
    this.send(payload);
    return this.nextText(timeoutMs);
  }

  /** Resolves when no frame arrives within `ms`; rejects with the frame otherwise. */
  async expectSilence(ms: number): Promise<void> {
    let frame: string | undefined;
    try {
      frame = await this.nextText(ms);
    } catch {
      return;
    }
    throw new Error(`expected no frame within ${ms} ms, got ${frame.slice(0, 200)}`);
  }

  /** Closes the connection (terminating it if the server does not finish the handshake soon). */
  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    // A paused client would never read the server's close frame.
    this.socket.resume();
    this.socket.close();
    const timer = setTimeout(() => this.socket.terminate(), 1_000);
    await this.closed;
    clearTimeout(timer);
  }
}

/** Closes every client still open; for afterAll. */
export async function closeAllClients(): Promise<void> {
  await Promise.all([...openClients].map((client) => client.close()));
}
