import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply } from 'fastify';
import { REQUEST_ID_HEADER } from '../json-rpc/request-id';
import type { RouteFailure } from './worker-route.errors';

/** A finished answer to a route request: what the worker returned, after the allow-list. */
export interface RouteAnswer {
  status: number;
  headers: [string, string][];
  body: Buffer;
}

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** Statuses whose responses carry no body (RFC 9110). */
const BODYLESS = new Set([204, 304]);

/**
 * Writes the answer on the raw response, past Fastify's send pipeline, so
 * that nothing (onSend hooks, content-type sniffing, serialisers) adds to or
 * changes what the allow-list let through. Only the length (from the bytes
 * sent) and the request id are the server's own.
 */
export function writeRouteAnswer(reply: FastifyReply, answer: RouteAnswer): void {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of answer.headers) headers[name] = value;
  const bodyless = BODYLESS.has(answer.status);
  if (!bodyless) headers['content-length'] = answer.body.length;
  headers[REQUEST_ID_HEADER] = reply.request.id;
  reply.hijack();
  reply.raw.writeHead(answer.status, headers);
  reply.raw.end(bodyless ? undefined : answer.body);
}

/** The server's own answer: a status and a short JSON body (and Retry-After for a 503). */
export function writeRouteFailure(reply: FastifyReply, failure: RouteFailure, closeConnection = false): void {
  const body = Buffer.from(JSON.stringify(failure.body), 'utf8');
  const headers: [string, string][] = [['content-type', JSON_CONTENT_TYPE]];
  if (failure.retryAfter !== undefined) headers.push(['retry-after', String(failure.retryAfter)]);
  if (closeConnection) headers.push(['connection', 'close']);
  writeRouteAnswer(reply, { status: failure.status, headers, body });
}
