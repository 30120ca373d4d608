import type { RouteResponse } from '../js-worker/runtime/route.types';
import { RouteFailure } from './worker-route.errors';
import type { RouteAnswer } from './worker-route.reply';

/**
 * The response headers a worker may set (NodeGet's list): anything else
 * (Set-Cookie, Location, Content-Security-Policy, ...) could let a script,
 * which anyone may reach, act on the server's origin as a whole. Headers not
 * on it are dropped, as NodeGet drops them, rather than failing the request.
 * `content-length` is on NodeGet's list, but the length sent is always that
 * of the bytes sent.
 */
export const ALLOWED_RESPONSE_HEADERS: ReadonlySet<string> = new Set([
  'content-type',
  'cache-control',
  'last-modified',
  'etag',
  'access-control-allow-origin',
  'access-control-allow-methods',
  'access-control-allow-headers',
]);

/** What Node would refuse to write (a line break could end the header); such a header is dropped too. */
const VALID_HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * The answer to send for what onRoute returned: the status checked (Fetch's
 * range, 200 to 599, which a Response made by `Response.error()` is outside of),
 * the headers filtered, the body held to `maxBodyBytes`.
 */
export function answerFrom(response: RouteResponse, maxBodyBytes: number): RouteAnswer {
  const { status } = response;
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new RouteFailure(500, `the worker's Response has status ${String(status)}, outside 200 to 599`);
  }
  if (response.body.byteLength > maxBodyBytes) {
    throw new RouteFailure(500, `the worker's response body exceeds ${maxBodyBytes} bytes`);
  }
  const headers = response.headers.filter(([name, value]) => ALLOWED_RESPONSE_HEADERS.has(name.toLowerCase()) && VALID_HEADER_VALUE.test(value));
  const body = Buffer.from(response.body.buffer, response.body.byteOffset, response.body.byteLength);
  return { status, headers, body };
}
