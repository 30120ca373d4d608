import { protocol } from '@electric-sql/pglite';
import type { PgLikeResult } from './pglite.protocol';

/** A type's text → value, as PGlite's `parsers` take it. */
export type TypeParsers = Record<number, ((value: string, type: number) => unknown) | undefined>;

export interface Notification {
  /** As the server names it (folded to lower case unless it was quoted). */
  channel: string;
  payload: string;
}

/** One statement's answer read from the engine's wire bytes. */
export interface Reply {
  result: PgLikeResult;
  /** The statement's error (PGlite's DatabaseError, as its own parser makes it), if it failed. */
  error?: Error;
  notifications: Notification[];
}

const INITIAL_BYTES = 16 * 1024;

/**
 * The engine's answer, copied out of its WebAssembly memory as it is written
 * (the chunks are views that the next write overwrites).
 */
export class ReplyBytes {
  private buffer = Buffer.allocUnsafe(INITIAL_BYTES);
  private length = 0;

  readonly push = (chunk: Uint8Array): void => {
    const needed = this.length + chunk.length;
    if (needed > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    this.buffer.set(chunk, this.length);
    this.length = needed;
  };

  get bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

const cstringEnd = (bytes: Buffer, from: number): number => bytes.indexOf(0, from);

/**
 * Reads the backend messages of one extended-protocol statement (bind,
 * describe, execute, sync) the way PGlite's `execProtocol` and
 * `parseResults` would, without their per-field copies, message objects and
 * per-call merge of the type parsers: rows as objects keyed by column name,
 * each non-null value through its type's parser; the first result's command
 * and row count. An error message is read by PGlite's own parser, so the
 * error is the same object its `query` would throw.
 */
export function readReply(bytes: Buffer, parsers: TypeParsers): Reply {
  const rows: Record<string, unknown>[] = [];
  const notifications: Notification[] = [];
  let names: string[] = [];
  let types: number[] = [];
  let command: string | undefined;
  let rowCount: number | undefined;
  let error: Error | undefined;
  let at = 0;
  while (at + 5 <= bytes.length) {
    const code = bytes[at];
    const end = at + 1 + bytes.readInt32BE(at + 1);
    const body = at + 5;
    switch (code) {
      case 0x54: // RowDescription
        [names, types] = readDescription(bytes, body);
        break;
      case 0x44: // DataRow
        if (command === undefined) rows.push(readRow(bytes, body, names, types, parsers));
        break;
      case 0x43: // CommandComplete
        if (command === undefined) [command, rowCount] = readTag(bytes.toString('utf8', body, cstringEnd(bytes, body)));
        break;
      case 0x45: // ErrorResponse
        error ??= errorOf(bytes.subarray(at, end));
        break;
      case 0x41: {
        // NotificationResponse: process id, channel, payload
        const channelEnd = cstringEnd(bytes, body + 4);
        const payloadEnd = cstringEnd(bytes, channelEnd + 1);
        notifications.push({ channel: bytes.toString('utf8', body + 4, channelEnd), payload: bytes.toString('utf8', channelEnd + 1, payloadEnd) });
        break;
      }
    }
    at = end;
  }
  return { result: { rows, rowCount: rowCount ?? 0, command }, error, notifications };
}

function readDescription(bytes: Buffer, body: number): [string[], number[]] {
  const count = bytes.readInt16BE(body);
  const names = new Array<string>(count);
  const types = new Array<number>(count);
  let at = body + 2;
  for (let i = 0; i < count; i++) {
    const nameEnd = cstringEnd(bytes, at);
    names[i] = bytes.toString('utf8', at, nameEnd);
    // After the name: the table's oid and the column's number, then the type's oid, its size, modifier and format.
    types[i] = bytes.readInt32BE(nameEnd + 1 + 4 + 2);
    at = nameEnd + 1 + 4 + 2 + 4 + 2 + 4 + 2;
  }
  return [names, types];
}

function readRow(bytes: Buffer, body: number, names: string[], types: number[], parsers: TypeParsers): Record<string, unknown> {
  const count = bytes.readInt16BE(body);
  const row: Record<string, unknown> = {};
  let at = body + 2;
  for (let i = 0; i < count; i++) {
    const length = bytes.readInt32BE(at);
    at += 4;
    if (length < 0) {
      row[names[i]] = null;
      continue;
    }
    const text = bytes.toString('utf8', at, at + length);
    at += length;
    const parser = parsers[types[i]];
    row[names[i]] = parser ? parser(text, types[i]) : text;
  }
  return row;
}

/** A command tag's command and, when it ends in one ("SELECT n", "INSERT oid n"), its row count. */
function readTag(tag: string): [string, number | undefined] {
  const parts = tag.split(' ');
  const count = parseInt(parts[parts.length - 1], 10);
  return [parts[0], Number.isNaN(count) ? undefined : count];
}

function errorOf(message: Buffer): Error {
  let error: Error | undefined;
  new protocol.Parser().parse(message, (parsed) => {
    if (parsed instanceof Error) error = parsed;
  });
  return error ?? new Error('the embedded database answered with an unreadable error');
}
