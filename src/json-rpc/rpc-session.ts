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
  /** `listener` runs once when the connection ends (at once if it has); the returned function removes it. */
  onClose(listener: () => void): () => void;
}
