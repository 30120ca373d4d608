import type { JsonRpcErrorObject } from './json-rpc.types';

/** What the exception filter hands back to the dispatcher in place of a result. */
export class RpcFailure {
  constructor(readonly error: JsonRpcErrorObject) {}
}
