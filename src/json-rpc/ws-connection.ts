import type { LoggerService } from '@nestjs/common';
import { type RawData, WebSocket } from 'ws';
import { replyBytes, stringifyNotification, WRITE_CHUNK_BYTES, type WrittenReply } from './json-rpc.codec';
import { INTERNAL_ERROR_REPLY } from './json-rpc.errors';
import type { RpcOrigin } from './rpc-request';
import type { RpcSession } from './rpc-session';

/**
 * What a connection needs of the dispatcher: a reply for a frame, or nothing
 * to answer (notifications). The connection passes itself as the frame's session.
 */
export interface JsonRpcFrameHandler {
  handle(body: string, origin: RpcOrigin): Promise<WrittenReply | undefined>;
}

/** The bounds one WebSocket connection is held to. */
export interface WsConnectionLimits {
  /** Frames being processed at once; beyond that the socket is no longer read (back-pressure). */
  maxFramesInFlight: number;
  /** Unsent reply bytes above which no further frame is started, and the socket is not read, until the client has taken some. */
  pauseAboveBufferedBytes: number;
  /** Unsent reply bytes above which a further reply is not queued: the client is disconnected instead. */
  maxBufferedBytes: number;
  /** Replies waiting to be sent with none taken by the client for this long: it is not reading, and is disconnected. */
  sendTimeoutMs: number;
  /** A connection that sends no frame for this long, with no call in flight, is closed. */
  idleTimeoutMs: number;
  /** A ping is sent this often; a connection that has not answered the previous one is dropped. */
  pingIntervalMs: number;
}

/** Largest frame read, as for an HTTP body: a JSON-RPC batch of 1000 small calls fits. ws closes with 1009 above it. */
export const WS_MAX_PAYLOAD = 4 * 1024 * 1024;

export const DEFAULT_WS_LIMITS: Omit<WsConnectionLimits, 'idleTimeoutMs' | 'sendTimeoutMs'> = {
  maxFramesInFlight: 16,
  pauseAboveBufferedBytes: 4 * 1024 * 1024,
  // One request's whole reply (MAX_RESPONSE_BYTES by default) is always sent to a client that reads.
  maxBufferedBytes: 32 * 1024 * 1024,
  pingIntervalMs: 30_000,
};

/** Close code and reason sent to a connection closed for being idle (1000: normal closure). */
export const WS_IDLE_CLOSE_CODE = 1000;
export const WS_IDLE_CLOSE_REASON = 'idle timeout';

/** Close code and reason sent when the server shuts down (1001: going away); clients reconnect elsewhere. */
export const WS_GOING_AWAY_CLOSE_CODE = 1001;
export const WS_GOING_AWAY_CLOSE_REASON = 'server shutting down';

/**
 * A frame as text: text frames arrive as strings (ws has checked their UTF-8),
 * binary frames as bytes, which are read as UTF-8 the way an HTTP body is.
 */
export function frameText(data: RawData | string): string {
  if (typeof data === 'string') return data;
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/**
 * One JSON-RPC WebSocket connection: every frame is handed to the dispatcher
 * and its reply (if any) sent back as a text frame, in whatever order the
 * calls finish. The connection holds itself to its limits:
 *
 * - at most `maxFramesInFlight` frames are processed at once, and none is
 *   started while more than `pauseAboveBufferedBytes` of replies are unsent;
 *   meanwhile the socket is paused, so the client's further frames wait in
 *   its own and the kernel's buffers, not here. Frames ws had already read
 *   when the socket was paused (at most one read's worth) wait in `waiting`;
 * - a reply is not queued behind more than `maxBufferedBytes` of unsent ones:
 *   the connection of a client that does not read is terminated instead;
 * - replies unsent with no progress for `sendTimeoutMs`: terminated, so a
 *   client that stops reading holds its buffers for a bounded time;
 * - no frame for `idleTimeoutMs` (and nothing in flight): closed normally;
 * - a ping every `pingIntervalMs`; no pong by the next one: terminated.
 *
 * It is also the calls' session (`RpcSession`): notifications the server
 * starts (subscriptions) go through the same unsent-bytes check as replies.
 */
export class WsConnection implements RpcSession {
  private inFlight = 0;
  private readonly waiting: string[] = [];
  private awaitingPong = false;
  private readonly idleTimer: NodeJS.Timeout;
  private readonly pingTimer: NodeJS.Timeout;
  private closed = false;
  private readonly closeListeners = new Set<() => void>();
  /** Frames handed to ws and not yet written to the socket. */
  private unsentFrames = 0;
  /** Runs while frames are unsent; pushed back each time one is written. */
  private sendTimer?: NodeJS.Timeout;
  /** Set while a large reply goes out in fragments; other replies wait in `outbox` meanwhile. */
  private fragmenting = false;
  private readonly outbox: WrittenReply[] = [];
  private releaseFragmentWait?: () => void;
  /** Bytes of replies not yet handed to ws: the outbox and the rest of the reply being fragmented. */
  private heldBytes = 0;
  /** Set by goAway: resolves it once the close frame is queued or the connection has ended. */
  private wentAway?: () => void;

  constructor(
    private readonly socket: WebSocket,
    private readonly handler: JsonRpcFrameHandler,
    private readonly limits: WsConnectionLimits,
    /** Where a dropped connection or a dispatcher failure is reported. */
    private readonly logger?: Pick<LoggerService, 'warn' | 'error'>,
    /** The client's address, for per-client limits. */
    private readonly peer = 'unknown',
  ) {
    this.idleTimer = setTimeout(() => this.onIdle(), limits.idleTimeoutMs);
    this.pingTimer = setInterval(() => this.onPingDue(), limits.pingIntervalMs);
    // The timers keep no process alive: the HTTP server does, and closing it closes every connection.
    this.idleTimer.unref();
    this.pingTimer.unref();
    socket.on('pong', () => {
      this.awaitingPong = false;
    });
    socket.once('close', () => this.dispose());
  }

  /** Takes one frame; its reply is sent when the dispatcher has it. */
  receive(frame: string): void {
    // Once closing (terminated, or closed for being idle) no reply could be sent: nothing more is run.
    // Once going away, frames that arrive are not started: the client sees 1001 and sends them elsewhere.
    if (!this.open || this.wentAway) return;
    this.idleTimer.refresh();
    if (this.mayStartFrame) this.process(frame);
    else this.waiting.push(frame);
    if (!this.mayStartFrame) this.socket.pause();
  }

  private get mayStartFrame(): boolean {
    return this.inFlight < this.limits.maxFramesInFlight && this.unsentBytes <= this.limits.pauseAboveBufferedBytes;
  }

  /** Replies written and not yet taken by the client: in ws's and the socket's buffers, or still held here. */
  get unsentBytes(): number {
    if (this.socket.readyState === WebSocket.CLOSED) return 0;
    return this.socket.bufferedAmount + this.heldBytes;
  }

  get open(): boolean {
    return !this.closed && this.socket.readyState === WebSocket.OPEN;
  }

  notify(method: string, params: unknown): void {
    if (this.open) this.send(stringifyNotification(method, params));
  }

  notifyText(text: string): void {
    if (this.open) this.send(text);
  }

  close(code: number, reason: string): void {
    if (!this.open) return;
    this.logger?.warn(`closing a WebSocket connection (${code} ${reason}; ${this.unsentBytes} bytes unsent)`);
    // The close frame follows the unsent frames; ws destroys the socket if the close has not completed within 30 s.
    this.socket.close(code, reason);
  }

  /**
   * For shutdown: starts no frame that arrives from now on, answers the ones
   * already taken, then closes with 1001 (going away). Resolves once the close
   * frame is queued behind the last reply, or the connection has ended.
   */
  goAway(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const done = new Promise<void>((resolve) => {
      const previous = this.wentAway;
      this.wentAway = () => {
        previous?.();
        resolve();
      };
    });
    this.closeIfAway();
    return done;
  }

  terminate(reason: string): void {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    this.logger?.warn(`cutting a WebSocket connection: ${reason} (${this.unsentBytes} bytes unsent)`);
    this.socket.terminate();
  }

  onClose(listener: () => void): () => void {
    if (this.closed) {
      listener();
      return () => undefined;
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  private process(frame: string): void {
    this.inFlight++;
    this.handler
      .handle(frame, { peer: this.peer, session: this })
      .catch((error: unknown) => {
        // The dispatcher answers every failure of a call itself: this is a bug.
        this.logger?.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
        return INTERNAL_ERROR_REPLY;
      })
      .then((reply) => {
        this.inFlight--;
        if (reply !== undefined) this.send(reply);
        this.next();
        this.closeIfAway();
      });
  }

  /** Starts waiting frames while there is room, then reads the socket again. */
  private next(): void {
    if (!this.open) return;
    while (this.mayStartFrame && this.waiting.length > 0) {
      this.process(this.waiting.shift() as string);
    }
    if (this.mayStartFrame && this.socket.isPaused) this.socket.resume();
  }

  private send(reply: WrittenReply): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    // Checked before sending, so that one large reply to a client that reads is always sent.
    if (this.unsentBytes > this.limits.maxBufferedBytes) {
      this.logger?.warn(`closing a WebSocket connection whose client does not read its replies (${this.unsentBytes} bytes unsent)`);
      // A close frame would wait behind the unsent replies: the socket is dropped at once.
      this.socket.terminate();
      return;
    }
    if (this.fragmenting) {
      // A message's fragments may not be interleaved with another message: this one waits its turn.
      this.outbox.push(reply);
      this.heldBytes += replyBytes(reply);
      return;
    }
    if (typeof reply === 'string' || reply.length <= WRITE_CHUNK_BYTES) this.sendFrame(reply, true);
    else void this.sendInFragments(reply);
  }

  /** Sends a large reply as one message in fragments, each once the previous one reached the socket; then what waited. */
  private async sendInFragments(reply: Buffer): Promise<void> {
    this.fragmenting = true;
    this.heldBytes += reply.length;
    try {
      for (let at = 0; at < reply.length && this.open; at += WRITE_CHUNK_BYTES) {
        const fragment = reply.subarray(at, at + WRITE_CHUNK_BYTES);
        this.heldBytes -= fragment.length;
        await new Promise<void>((sent) => {
          // Released by the frame's write, or by the connection's end (whose pending writes may never call back).
          this.releaseFragmentWait = sent;
          this.sendFrame(fragment, at + fragment.length >= reply.length, sent);
        });
      }
    } finally {
      this.fragmenting = false;
    }
    while (!this.fragmenting && this.outbox.length > 0) {
      const next = this.outbox.shift() as WrittenReply;
      this.heldBytes -= replyBytes(next);
      this.send(next);
    }
    this.closeIfAway();
  }

  /** Going away, and every frame taken is answered: the close frame follows the last reply (ws keeps the order). */
  private closeIfAway(): void {
    const resolve = this.wentAway;
    if (resolve === undefined) return;
    if (this.open && (this.inFlight > 0 || this.waiting.length > 0 || this.fragmenting || this.outbox.length > 0)) return;
    if (this.open) this.socket.close(WS_GOING_AWAY_CLOSE_CODE, WS_GOING_AWAY_CLOSE_REASON);
    resolve();
  }

  /** Hands one frame (a whole message, or a fragment of one) to ws, under the send timeout. */
  private sendFrame(data: WrittenReply, fin: boolean, sent?: () => void): void {
    this.unsentFrames++;
    if (this.sendTimer) this.sendTimer.refresh();
    else this.sendTimer = setTimeout(() => this.onSendStalled(), this.limits.sendTimeoutMs).unref();
    // Large replies come as bytes: sent as the text message they are.
    this.socket.send(data, { binary: false, fin }, () => {
      this.onSent();
      sent?.();
    });
  }

  /** A frame reached the socket: progress; and room, perhaps, for waiting frames. */
  private onSent(): void {
    this.unsentFrames--;
    if (this.unsentFrames > 0) this.sendTimer?.refresh();
    else this.stopSendTimer();
    this.next();
  }

  private onSendStalled(): void {
    this.sendTimer = undefined;
    if (!this.open || this.unsentFrames === 0) return;
    this.logger?.warn(
      `closing a WebSocket connection whose client took none of its replies for ${this.limits.sendTimeoutMs} ms (${this.unsentBytes} bytes unsent)`,
    );
    this.socket.terminate();
  }

  private stopSendTimer(): void {
    clearTimeout(this.sendTimer);
    this.sendTimer = undefined;
  }

  private onIdle(): void {
    if (!this.open) return;
    if (this.inFlight > 0 || this.waiting.length > 0) {
      this.idleTimer.refresh();
      return;
    }
    this.socket.close(WS_IDLE_CLOSE_CODE, WS_IDLE_CLOSE_REASON);
  }

  private onPingDue(): void {
    if (!this.open) return;
    // While the socket is paused by back-pressure the pong cannot be read: no verdict then.
    if (this.socket.isPaused) return;
    if (this.awaitingPong) {
      this.logger?.warn('closing a WebSocket connection that did not answer a ping');
      this.socket.terminate();
      return;
    }
    this.awaitingPong = true;
    this.socket.ping();
  }

  private dispose(): void {
    this.closed = true;
    this.wentAway?.();
    this.waiting.length = 0;
    this.outbox.length = 0;
    this.heldBytes = 0;
    this.releaseFragmentWait?.();
    clearTimeout(this.idleTimer);
    clearInterval(this.pingTimer);
    this.stopSendTimer();
    const listeners = [...this.closeListeners];
    this.closeListeners.clear();
    for (const listener of listeners) {
      try {
        listener();
      } catch (error) {
        // One listener's bug must not keep the others from releasing what they hold for the connection.
        this.logger?.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      }
    }
  }
}
