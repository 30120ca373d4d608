/**
 * What crosses into a sandbox for an `onRoute` run, and what comes back: the
 * Fetch Request and Response reduced to plain data, bodies as bytes (never
 * base64 on the way: an 8 MiB body would cost the guest seconds to decode).
 */

/** The request onRoute's `Request` is built from. */
export interface RouteRequest {
  method: string;
  /** Absolute. */
  url: string;
  /** Names lower-case, in the order received; repeated names are combined by the guest's Headers. */
  headers: [string, string][];
  /** Ignored for GET and HEAD, which a Fetch Request cannot carry a body with. */
  body: Uint8Array;
}

/** What onRoute's `Response` is reduced to, before any allow-list. */
export interface RouteResponse {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
}

/** The message of a run whose onRoute returned something that is not a Response (NodeGet's wording). */
export const NOT_A_RESPONSE = 'onRoute must return a Response object';
