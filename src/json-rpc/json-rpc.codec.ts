import { isSafeNumber, parse as parseLossless, stringify as stringifyLossless } from 'lossless-json';
import { jsonDepth, MAX_JSON_DEPTH } from '../common/json-depth';
import { JsonText } from '../common/json-text';
import type { JsonTextStream } from '../common/json-text-stream';
import type { JsonRpcResponse } from './json-rpc.types';

/** Integers this long may exceed 2^53, where JSON.parse would silently round them. */
const LONG_DIGIT_RUN = /\d{16,}/;

function exactNumber(text: string): number | bigint {
  if (isSafeNumber(text)) return Number(text);
  return /^-?\d+$/.test(text) ? BigInt(text) : Number(text);
}

/**
 * Parses JSON text. Large integers (64-bit ids and bounds) are kept exact
 * as BigInt; the common case takes the fast native path.
 */
export function parseJson(text: string): unknown {
  if (!LONG_DIGIT_RUN.test(text)) return JSON.parse(text);
  return parseLossless(text, null, exactNumber);
}

/** Levels a request adds above a param's own: a batch, the call, its params. */
const ENVELOPE_LEVELS = 3;

/** A request body that holds long integers and nests deeper than any request may: `depth` levels. */
export class RequestNestedTooDeep extends Error {
  static readonly MAX_DEPTH = MAX_JSON_DEPTH + ENVELOPE_LEVELS;

  constructor(readonly depth: number) {
    super(`the body is nested ${depth} levels deep; a request nests at most ${RequestNestedTooDeep.MAX_DEPTH} (params at most ${MAX_JSON_DEPTH})`);
  }
}

/**
 * Parses a request body as parseJson does. The native parser takes any depth,
 * and params nested too deep are refused call by call (the params guard); the
 * parser that keeps long integers exact recurses, so a body holding them is
 * measured first, and one nested past what any request may is refused whole.
 */
export function parseRequestJson(text: string): unknown {
  if (!LONG_DIGIT_RUN.test(text)) return JSON.parse(text);
  const depth = jsonDepth(text);
  if (depth > RequestNestedTooDeep.MAX_DEPTH) throw new RequestNestedTooDeep(depth);
  return parseLossless(text, null, exactNumber);
}

/** Serialises a response; BigInt values are written as exact JSON numbers. */
export function stringifyJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    if (!(err instanceof TypeError) || !/BigInt/i.test(err.message)) throw err;
    return stringifyLossless(value) as string;
  }
}

/**
 * Writes one reply. A result that is already JSON text (rows PostgreSQL
 * assembled) is written in as it is, without parsing it again.
 */
export function stringifyReply(reply: JsonRpcResponse): string {
  if ('result' in reply && reply.result instanceof JsonText) {
    return `{"jsonrpc":"2.0","id":${stringifyJson(reply.id)},"result":${reply.result.text}}`;
  }
  return stringifyJson(reply);
}

/**
 * A reply ready to send: JSON text, or its UTF-8 bytes once it is large.
 * Transports send either as it is (an HTTP body, a WebSocket text frame).
 */
export type WrittenReply = string | Buffer;

/**
 * A reply as a transport that can send it as it is produced receives it:
 * written, or the whole reply of a streamed result, of a known exact length
 * (see JsonRpcDispatcher.handleStreaming).
 */
export type SentReply = WrittenReply | JsonTextStream;

/**
 * Replies above this many characters are encoded to bytes as soon as they
 * are written. Encoding one call's reply costs a few milliseconds, when that
 * call finishes; encoding (and first flattening) a batch's joined 32 MiB
 * text at the end cost the event loop 100–300 ms at once, which every other
 * caller waited for.
 */
export const LARGE_REPLY_CHARS = 256 * 1024;

export function encodeLarge(text: string): WrittenReply {
  return text.length > LARGE_REPLY_CHARS ? Buffer.from(text, 'utf8') : text;
}

/**
 * Large replies are sent this much at a time (an HTTP body in pieces, a
 * WebSocket message in fragments), each piece once the previous one has
 * reached the socket. Handed over whole, a 32 MiB reply to a client that
 * reads fast was copied into the kernel by one write call that held the
 * event loop for 100–200 ms.
 */
export const WRITE_CHUNK_BYTES = 512 * 1024;

/** A written reply's size on the wire. */
export function replyBytes(reply: WrittenReply): number {
  return typeof reply === 'string' ? Buffer.byteLength(reply) : reply.length;
}

const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');

/** A batch's reply from its calls' replies, each already written; bytes (each reply encoded once) when it is large. */
export function joinReplies(replies: readonly WrittenReply[]): WrittenReply {
  let chars = 0;
  for (const reply of replies) chars += typeof reply === 'string' ? reply.length : LARGE_REPLY_CHARS + 1;
  if (chars <= LARGE_REPLY_CHARS) return `[${replies.join(',')}]`;
  const parts: Buffer[] = [OPEN];
  replies.forEach((reply, i) => {
    if (i > 0) parts.push(COMMA);
    parts.push(typeof reply === 'string' ? Buffer.from(reply, 'utf8') : reply);
  });
  parts.push(CLOSE);
  return Buffer.concat(parts);
}

/** A notification the server sends (no id); BigInt values are written as exact JSON numbers. */
export function stringifyNotification(method: string, params: unknown): string {
  return `{"jsonrpc":"2.0","method":${JSON.stringify(method)},"params":${stringifyJson(params)}}`;
}
