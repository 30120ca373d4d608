import { describeJson } from '../common/describe-json';
import type { RouteRequest, RouteResponse } from './runtime/route.types';

/**
 * `js-worker_run` with `run_type: "route"` (NodeGet's dashboard simulates an
 * HTTP request with it): params `{url, method, headers: [{name, value}],
 * body_base64}` become the Request onRoute gets, and the Response it returns
 * is stored as `{status, headers: [{name, value}], body_base64}`, as NodeGet
 * stores it (crates/ng-js-runtime/src/server_runtime.rs). NodeGet checks the
 * params only inside the run; here their form is checked before anything is
 * written (-32602), so a malformed simulation leaves no row. The body may
 * also come as `body_bytes` (byte values), the form NodeGet's dashboard sends.
 */

export interface RouteRunResult {
  status: number;
  headers: { name: string; value: string }[];
  body_base64: string;
}

/** An HTTP method as RFC 9110 spells one: a token. */
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_NAME = METHOD;
/** What a header value may hold on the wire: no line breaks, no NUL. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Standard base64, padded as Buffer writes it (NodeGet decodes with `atob`, which requires the same alphabet). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const FORM = '{"url": "https://host/path", "method": "GET", "headers": [{"name": "...", "value": "..."}], "body_base64": "..."}';

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Why these params cannot make a Request (the message of a -32602), or undefined when they can. */
export function routeParamsError(raw: unknown): string | undefined {
  if (!isRecord(raw)) return `params: expected ${FORM} for run_type "route", got ${describeJson(raw)}`;
  const { url, method, headers, body_base64: body } = raw;
  if (typeof url !== 'string' || !/^https?:\/\//i.test(url) || !URL.canParse(url)) {
    return `params.url: expected an absolute http(s) URL, got ${describeJson(url)}`;
  }
  if (method !== undefined && method !== null && (typeof method !== 'string' || !METHOD.test(method))) {
    return `params.method: expected an HTTP method such as "GET", got ${describeJson(method)}`;
  }
  if (headers !== undefined && headers !== null) {
    if (!Array.isArray(headers)) return `params.headers: expected a list of {"name": "...", "value": "..."}, got ${describeJson(headers)}`;
    for (let i = 0; i < headers.length; i++) {
      const header: unknown = headers[i];
      if (!isRecord(header) || typeof header.name !== 'string' || !HEADER_NAME.test(header.name)) {
        return `params.headers[${i}].name: expected a header name, got ${describeJson(isRecord(header) ? header.name : header)}`;
      }
      if (typeof header.value !== 'string' || !HEADER_VALUE.test(header.value)) {
        return `params.headers[${i}].value: expected a header value (text without line breaks), got ${describeJson(header.value)}`;
      }
    }
  }
  if (body !== undefined && body !== null && (typeof body !== 'string' || !BASE64.test(body))) {
    return `params.body_base64: expected the body as a base64 string, got ${describeJson(body)}`;
  }
  return bodyBytesError(raw.body_bytes, body);
}

/** NodeGet's dashboard sends the body as `body_bytes`, a list of byte values, which NodeGet ignores; taken here too. */
function bodyBytesError(bytes: unknown, base64: unknown): string | undefined {
  if (bytes === undefined || bytes === null) return undefined;
  if (base64 !== undefined && base64 !== null) return 'params.body_bytes: give the body as body_base64 or as body_bytes, not both';
  if (!Array.isArray(bytes) || !bytes.every((byte) => Number.isInteger(byte) && byte >= 0 && byte <= 255)) {
    return `params.body_bytes: expected the body as a list of byte values (0 to 255), got ${describeJson(bytes)}`;
  }
  return undefined;
}

/** The Request's parts from params that routeParamsError accepted. */
export function routeRequestFromParams(params: Record<string, unknown>): RouteRequest {
  const headers = (params.headers ?? []) as { name: string; value: string }[];
  return {
    method: typeof params.method === 'string' ? params.method : 'GET',
    url: params.url as string,
    headers: headers.map(({ name, value }) => [name.toLowerCase(), value]),
    body: Array.isArray(params.body_bytes)
      ? Buffer.from(params.body_bytes as number[])
      : Buffer.from(typeof params.body_base64 === 'string' ? params.body_base64 : '', 'base64'),
  };
}

/** What is stored as the run's result. */
export function routeRunResult(response: RouteResponse): RouteRunResult {
  return {
    status: response.status,
    headers: response.headers.map(([name, value]) => ({ name, value })),
    body_base64: Buffer.from(response.body.buffer, response.body.byteOffset, response.body.byteLength).toString('base64'),
  };
}
