import { JsonTextStream, pieceBytes, type TextPiece, type TextSource } from '../common/json-text-stream';
import type { RowCursor } from '../database/row-cursor';
import type { StreamedElement } from './js-result.repository';

/**
 * Bytes of records one fetch brings in at most (a single record larger than
 * this comes alone). With the next batch read while one is being written,
 * a streamed read holds about two of these, whatever its length.
 */
export const STREAM_BATCH_BYTES = 512 * 1024;

/** Rows one fetch brings in at most, however small they are: each row is an object while it is here. */
const STREAM_MAX_BATCH_ROWS = 2_000;

/** Rows per fetch for records of at most `widest` bytes, so a batch stays within STREAM_BATCH_BYTES. */
export function batchRowsFor(widest: number): number {
  return Math.max(1, Math.min(STREAM_MAX_BATCH_ROWS, Math.floor(STREAM_BATCH_BYTES / Math.max(1, widest))));
}

/**
 * Bytes of the buffers batches are written into: a batch's elements at most
 * STREAM_BATCH_BYTES together (see batchRowsFor), plus a comma each.
 */
const BATCH_BUFFER_BYTES = STREAM_BATCH_BYTES + STREAM_MAX_BATCH_ROWS;

/**
 * Buffers of BATCH_BUFFER_BYTES kept for the next streams: each stream writes
 * its batches into one, so a read's text crosses this process as bytes
 * written in place, not as a joined string and its encoded copy per batch,
 * which lived until the next full collection and grew the heap with every read.
 */
const spareBuffers: Buffer[] = [];
const SPARE_BUFFERS = 4;

/** A buffer of at least `bytes` (a spare one when the usual size will do); unzeroed, only what is written of it is ever sent. */
export function takeBatchBuffer(bytes: number): Buffer {
  if (bytes <= BATCH_BUFFER_BYTES) return spareBuffers.pop() ?? Buffer.allocUnsafeSlow(BATCH_BUFFER_BYTES);
  return Buffer.allocUnsafeSlow(bytes);
}

/** Keeps a buffer of the usual size for a later stream, up to SPARE_BUFFERS of them. */
export function giveBackBatchBuffer(buffer: Buffer): void {
  if (buffer.length === BATCH_BUFFER_BYTES && spareBuffers.length < SPARE_BUFFERS && !spareBuffers.includes(buffer)) spareBuffers.push(buffer);
}

const MAX_UTF8_CHAR_BYTES = 4;

/**
 * `,element` written into `buffer` at `at`; where it ends, or an error for
 * an element that does not fit (longer than the `widest` the buffer was
 * sized by: the length announced would be wrong).
 */
export function writeElement(buffer: Buffer, at: number, element: string): number {
  if (at >= buffer.length) throw new Error('a streamed batch is longer than its buffer');
  buffer[at] = 0x2c;
  const written = buffer.write(element, at + 1);
  // Buffer.write stops silently before a character that does not fit whole: only an end this close to the buffer's can hide a cut.
  if (at + 1 + written > buffer.length - MAX_UTF8_CHAR_BYTES && written !== Buffer.byteLength(element)) {
    throw new Error('a streamed batch is longer than its buffer');
  }
  return at + 1 + written;
}

/** A batch as its piece of the reply: its rows' `,element`s, as bytes. */
interface WrittenBatch {
  rows: number;
  piece: Buffer;
}

/**
 * The JSON array of a cursor's elements, whose first row (`first`, already
 * read) says the array's exact length: `[`, the elements joined by commas,
 * `]`, a batch per piece, the next batch read while the last is written.
 * Each row is written into one of two buffers as it arrives (see
 * RowCursor.fetchColumn), so it is garbage before it could outlive a
 * young-generation collection.
 * A text that would not have the length announced is an error (the
 * transport then drops the connection rather than send a wrong body).
 */
export function recordsStream(cursor: RowCursor<StreamedElement>, first: StreamedElement): JsonTextStream {
  const bytes = Number(first.bytes);
  const widest = Number(first.widest);
  const batchRows = batchRowsFor(widest);
  const buffers: Buffer[] = [];
  let filling = 0;
  let closed = false;
  let sent = 0;
  let pending: Promise<WrittenBatch> | undefined;
  let stage: 'first' | 'rest' | 'done' = 'first';
  // The buffer the last piece was given in is the transport's until `next` is called again: the fetch after it fills the other.
  const fetchNext = () => {
    const at = filling;
    filling = 1 - filling;
    const into = (buffers[at] ??= takeBatchBuffer(batchRows * (widest + 1)));
    let end = 0;
    const batch = cursor
      .fetchColumn(batchRows, 'element', (element) => {
        // Once closed, its buffers may be another stream's.
        if (!closed) end = writeElement(into, end, element ?? 'null');
      })
      .then((rows): WrittenBatch => ({ rows, piece: into.subarray(0, end) }));
    // Handled when it is awaited; until then a failure must not count as unhandled.
    batch.catch(() => undefined);
    return batch;
  };
  const counted = <P extends TextPiece>(piece: P): P => {
    sent += pieceBytes(piece);
    if (sent > bytes) throw new Error(`a streamed read gave more than the ${bytes} bytes it announced`);
    return piece;
  };
  const source: TextSource = {
    async next() {
      if (stage === 'first') {
        stage = 'rest';
        pending = fetchNext();
        return counted(`[${first.element}`);
      }
      if (stage === 'done') return undefined;
      const batch = await (pending as Promise<WrittenBatch>);
      if (batch.rows === 0) {
        stage = 'done';
        const end = counted(']');
        if (sent !== bytes) throw new Error(`a streamed read gave ${sent} bytes, not the ${bytes} it announced`);
        return end;
      }
      pending = batch.rows < batchRows ? Promise.resolve({ rows: 0, piece: Buffer.alloc(0) }) : fetchNext();
      return counted(batch.piece);
    },
    async close() {
      closed = true;
      try {
        await cursor.close();
      } finally {
        // A fetch still under way writes nothing once closed; the buffers are free once it settled.
        await pending?.catch(() => undefined);
        for (const buffer of buffers) giveBackBatchBuffer(buffer);
        buffers.length = 0;
      }
    },
  };
  return new JsonTextStream(bytes, source);
}
