/**
 * The connection a call arrived on, when that connection can carry messages
 * the server starts (a WebSocket); HTTP calls have none. Domain code sends
 * notifications through it without knowing the transport, and ties state that
 * must not outlive the connection (subscriptions) to its end.
 */
export interface RpcSession {
  /** Whether messages can still be sent. */
  readonly open: boolean;
  /**
   * Sends `{"jsonrpc":"2.0","method":…,"params":…}`. A client that has let
   * too much go unread is disconnected instead; nothing is sent once closed.
   */
  notify(method: string, params: unknown): void;
  /** Sends a notification already written as JSON text (shared text, built once for many connections). */
  notifyText(text: string): void;
  /** Bytes written to the connection and not yet taken by the client. */
  readonly unsentBytes: number;
  /**
   * Closes the connection with a close frame carrying `code` and `reason`. The
   * frame follows what is already queued, so a client still reading gets it;
   * a close not completed within 30 s (ws's close timeout) cuts the connection.
   */
  close(code: number, reason: string): void;
  /** Cuts the connection at once, dropping whatever is queued for it. */
  terminate(reason: string): void;
  /** `listener` runs once when the connection ends (at once if it has); the returned function removes it. */
  onClose(listener: () => void): () => void;
}
