/**
 * How a JSON-RPC method describes itself, declared once beside its DTO (a
 * feature's `<feature>.openrpc.ts`) and handed to `@RpcMethod(name, { doc })`.
 * The OpenRPC document is built from these at start; a method without one
 * still appears, with permissive schemas (see openrpc.document.ts).
 */

/** A JSON Schema (draft 7), as plain data. */
export type JsonSchema = { readonly [keyword: string]: unknown };

/** Who may call: nobody needs a token, any valid token, or the super token. */
export type RpcAuthKind = 'none' | 'token' | 'supertoken';

/** An error the method can answer with beyond the ones every method can (-32602, -32603, 103, and 101/102 with a token). */
export interface RpcErrorDoc {
  code: number;
  /** What it means, in a sentence (the wire message starts with the code's title, e.g. `Invalid input: ...`). */
  message: string;
  /** An example of the error's `data`, when it has one (its shape is in the document's `x-error-data`). */
  data?: unknown;
}

/** One call as the contract shows it: params by name and the result. */
export interface RpcExampleDoc {
  name: string;
  summary?: string;
  /** By name; the token is written `"<token>"` (the example test substitutes a real one). */
  params: Readonly<Record<string, unknown>>;
  result: unknown;
}

export interface RpcMethodDoc {
  summary: string;
  description?: string;
  auth: RpcAuthKind;
  /** Who may do what, in English (the API reference's "Permissions"). */
  permissions?: string;
  /** The schema of each param, by its wire name; the order is the DTO's (`@Positional`). */
  params: Readonly<Record<string, JsonSchema>>;
  /** Params that must be given (the others may be left out or null). */
  required: readonly string[];
  result: { name: string; description?: string; schema: JsonSchema };
  errors?: readonly RpcErrorDoc[];
  examples?: readonly RpcExampleDoc[];
  /** Only over WebSocket (subscriptions). */
  webSocketOnly?: boolean;
}
