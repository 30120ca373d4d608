import type { ReplyBudget } from '../common/reply-budget';
import type { RpcSession } from './rpc-session';

/** Where a request came from, as its transport knows it. */
export interface RpcOrigin {
  /** The client's address as the socket sees it (no proxy headers are trusted). */
  readonly peer: string;
  /** The connection, when it can carry notifications (WebSocket); absent over HTTP. */
  readonly session?: RpcSession;
}

/**
 * One request: an HTTP body or a WebSocket frame, a single call or a batch.
 * Its calls share it, so limits that hold per request (or per client) are
 * counted here rather than per call, and by the transport that knows the
 * client, never by domain code reading the HTTP request.
 */
export class RpcRequest implements RpcOrigin {
  readonly peer: string;
  readonly session?: RpcSession;
  /** Usernames whose passwords calls of this request asked to check, to cap account logins per request. */
  readonly accounts = new Set<string>();

  constructor(
    origin: RpcOrigin,
    /** The bytes of reply left to the request's calls (MAX_RESPONSE_BYTES, MAX_CALL_RESPONSE_BYTES). */
    readonly replies: ReplyBudget,
  ) {
    this.peer = origin.peer;
    this.session = origin.session;
  }
}
