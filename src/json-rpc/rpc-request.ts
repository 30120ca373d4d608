import type { ReplyBudget } from '../common/reply-budget';
import { newRequestId } from './request-id';
import type { RpcSession } from './rpc-session';

/** Where a request came from, as its transport knows it. */
export interface RpcOrigin {
  /** The client's address: the socket's peer, or the client a trusted proxy names (TRUST_PROXY). */
  readonly peer: string;
  /** The connection, when it can carry notifications (WebSocket); absent over HTTP. */
  readonly session?: RpcSession;
  /** The id every log line of the request carries (HTTP: echoed in `x-request-id`); one is made when absent. */
  readonly requestId?: string;
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
  readonly requestId: string;
  /** Usernames whose passwords calls of this request asked to check, to cap account logins per request. */
  readonly accounts = new Set<string>();

  /** What a line logged about this request adds so that it carries the request id (nothing when its context does). */
  get logFields(): { reqId?: string } {
    return this.inLogContext ? {} : { reqId: this.requestId };
  }

  constructor(
    origin: RpcOrigin,
    /** The bytes of reply left to the request's calls (MAX_RESPONSE_BYTES, MAX_CALL_RESPONSE_BYTES). */
    readonly replies: ReplyBudget,
    /** The id the request's log lines carry; the origin's, else a new one. */
    requestId?: string,
    /** Whether the request runs in a logging context that adds `reqId` to every line by itself. */
    private readonly inLogContext = false,
  ) {
    this.peer = origin.peer;
    this.session = origin.session;
    this.requestId = requestId ?? origin.requestId ?? newRequestId();
  }
}
