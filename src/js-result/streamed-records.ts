import { JsonTextStream, type TextSource } from '../common/json-text-stream';
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
 * The JSON array of a cursor's elements, whose first row (`first`, already
 * read) says the array's exact length: `[`, the elements joined by commas,
 * `]`, a batch per piece, the next batch read while the last is written.
 * A text that would not have the length announced is an error (the
 * transport then drops the connection rather than send a wrong body).
 */
export function recordsStream(cursor: RowCursor<StreamedElement>, first: StreamedElement): JsonTextStream {
  const bytes = Number(first.bytes);
  const batchRows = batchRowsFor(Number(first.widest));
  let sent = 0;
  let pending: Promise<StreamedElement[]> | undefined;
  let stage: 'first' | 'rest' | 'done' = 'first';
  const fetchNext = () => {
    const batch = cursor.fetch(batchRows);
    // Handled when it is awaited; until then a failure must not count as unhandled.
    batch.catch(() => undefined);
    return batch;
  };
  const counted = (piece: string) => {
    sent += Buffer.byteLength(piece);
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
      const rows = await (pending as Promise<StreamedElement[]>);
      if (rows.length === 0) {
        stage = 'done';
        const end = counted(']');
        if (sent !== bytes) throw new Error(`a streamed read gave ${sent} bytes, not the ${bytes} it announced`);
        return end;
      }
      pending = rows.length < batchRows ? Promise.resolve([]) : fetchNext();
      let piece = '';
      for (const row of rows) piece += `,${row.element}`;
      return counted(piece);
    },
    close: () => cursor.close(),
  };
  return new JsonTextStream(bytes, source);
}
