/** A JSON-RPC error the service answered with: its `code`, `message` and, where there is something to act on, `data`. */
export class JsonRpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'JsonRpcError';
  }
}

/** The call never got a JSON-RPC answer: the URL is not a JSON-RPC endpoint, the connection failed, or the answer did not come in time. */
export class RpcTransportError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RpcTransportError';
  }
}
