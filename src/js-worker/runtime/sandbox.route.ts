import { NOT_A_RESPONSE } from './route.types';
import { compactGuestSource } from './guest-source';

/**
 * Guest side of an `onRoute` run, evaluated on route runs only, after the
 * prelude and before the user's module (so its intrinsics are captured before
 * the user's module runs; other runs need not compile it). A function of the prelude's
 * `defaultExport` and `show`, returning the helper
 * `route(ns, init, body, env, ctx)`:
 * - builds the Fetch `Request` from `init` (JSON text of `{method, url,
 *   headers}`) and `body` (an ArrayBuffer; left out for GET and HEAD, which a
 *   Request cannot carry a body with),
 * - calls `onRoute(request, env, ctx)` and waits for it,
 * - refuses anything but a `Response` (NodeGet's check and message),
 * - reduces it to `{ meta, bytes }` or `{ meta, text }`: `meta` the JSON text
 *   of `{status, headers: [[name, value], ...]}`, `bytes` an ArrayBuffer,
 *   `text` a string body as given (the host encodes it to UTF-8, far faster
 *   than guest code could).
 * The host reads only those own data properties, and checks what it reads.
 */
export const ROUTE_HELPER_FILENAME = 'sandbox-route.js';

export const ROUTE_HELPER_SOURCE = compactGuestSource(`(function (defaultExport, show) {
  const parse = JSON.parse;
  const stringify = JSON.stringify;
  const toText = String;
  const apply = Reflect.apply;
  const then = Promise.prototype.then;
  const resolvePromise = (value) => Promise.resolve(value);
  const isView = ArrayBuffer.isView;
  const ArrayBufferCtor = ArrayBuffer;
  const Uint8ArrayCtor = Uint8Array;
  const TypeErrorCtor = TypeError;
  const global = globalThis;
  const BODYLESS = /^(?:GET|HEAD)$/i;

  function bytesOf(value) {
    if (value instanceof ArrayBufferCtor) return value;
    if (isView(value)) return value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength);
    throw new TypeErrorCtor('the Response body could not be read as bytes');
  }

  function reduce(response) {
    const ResponseCtor = global.Response;
    if (typeof ResponseCtor !== 'function' || !(response instanceof ResponseCtor)) {
      throw new TypeErrorCtor(${JSON.stringify(NOT_A_RESPONSE)} + ', got ' + show(response));
    }
    const headers = [];
    response.headers.forEach((value, name) => {
      headers.push([toText(name), toText(value)]);
    });
    const meta = stringify({ status: response.status, headers: headers });
    // whatwg-fetch keeps a string body as given: handed over as text, it is encoded by the host.
    if (typeof response._bodyText === 'string' && !response.bodyUsed && response._bodyArrayBuffer === undefined) {
      return apply(then, resolvePromise(response.text()), [(text) => ({ meta: meta, text: toText(text) })]);
    }
    return apply(then, resolvePromise(response.arrayBuffer()), [(bytes) => ({ meta: meta, bytes: bytesOf(bytes) })]);
  }

  return function route(ns, init, body, env, ctx) {
    const d = defaultExport(ns);
    const parts = parse(init);
    const options = { method: parts.method, headers: parts.headers };
    if (!BODYLESS.test(parts.method) && body.byteLength > 0) options.body = new Uint8ArrayCtor(body);
    const request = new global.Request(parts.url, options);
    const context = typeof ctx === 'string' ? parse(ctx) : ctx;
    const returned = apply(d.onRoute, d, [request, env === undefined ? undefined : parse(env), context]);
    return apply(then, resolvePromise(returned), [reduce]);
  };
})`);
