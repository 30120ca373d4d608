/** JSON-RPC 2.0 error codes, and the application codes NodeGet clients know. */
export enum JsonRpcErrorCode {
  ParseError = -32700,
  InvalidRequest = -32600,
  MethodNotFound = -32601,
  InvalidParams = -32602,
  InternalError = -32603,
  TokenParseError = 101,
  PermissionDenied = 102,
  DatabaseError = 103,
  NotFound = 105,
  NotAcceptable = 108,
}

export type JsonRpcId = string | number | bigint | null;

export interface JsonRpcErrorObject {
  code: JsonRpcErrorCode;
  message: string;
  data?: unknown;
}

export type JsonRpcResponse =
  | { jsonrpc: '2.0'; id: JsonRpcId; result: unknown }
  | { jsonrpc: '2.0'; id: JsonRpcId; error: JsonRpcErrorObject };

/** A request that passed envelope checks; `id` is absent for notifications. */
export interface JsonRpcCall {
  method: string;
  params: unknown;
  id?: JsonRpcId;
}

/** A failure of the envelope itself, raised only inside the transport. */
export class JsonRpcProtocolError extends Error {
  constructor(
    readonly code: JsonRpcErrorCode.ParseError | JsonRpcErrorCode.InvalidRequest | JsonRpcErrorCode.MethodNotFound,
    message: string,
    /** The error's `data`, when there is something to act on (-32601: the method asked for). */
    readonly data?: Readonly<Record<string, string>>,
  ) {
    super(message);
    this.name = 'JsonRpcProtocolError';
  }
}
