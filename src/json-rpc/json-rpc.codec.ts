import { isSafeNumber, parse as parseLossless, stringify as stringifyLossless } from 'lossless-json';
import { JsonText } from '../common/json-text';
import type { JsonRpcResponse } from './json-rpc.types';

/** Integers this long may exceed 2^53, where JSON.parse would silently round them. */
const LONG_DIGIT_RUN = /\d{16,}/;

function exactNumber(text: string): number | bigint {
  if (isSafeNumber(text)) return Number(text);
  return /^-?\d+$/.test(text) ? BigInt(text) : Number(text);
}

/**
 * Parses a request body. Large integers (64-bit ids and bounds) are kept exact
 * as BigInt; the common case takes the fast native path.
 */
export function parseJson(text: string): unknown {
  if (!LONG_DIGIT_RUN.test(text)) return JSON.parse(text);
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

/** A batch's reply from its calls' replies, each already written. */
export function joinReplies(replies: readonly string[]): string {
  return `[${replies.join(',')}]`;
}

/** A notification the server sends (no id); BigInt values are written as exact JSON numbers. */
export function stringifyNotification(method: string, params: unknown): string {
  return `{"jsonrpc":"2.0","method":${JSON.stringify(method)},"params":${stringifyJson(params)}}`;
}
