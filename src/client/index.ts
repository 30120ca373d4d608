/** The typed client of this service (to be exported as `js-result-service/client`). */
export { type BatchCall, type BatchOutcome, type CallOptions, type ClientOptions, createClient, type RpcClient } from './client';
export { JsonRpcError, RpcTransportError } from './json-rpc-error';
export * from './methods';
