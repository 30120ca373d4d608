import type { RowCursor } from '../database/row-cursor';
import type { StreamedElement } from './js-result.repository';
import { batchRowsFor, recordsStream, writeElement } from './streamed-records';

/** A cursor over `elements` (the first already read by the caller), handing each row's element on as a fetch brings it. */
function cursorOver(elements: string[]) {
  const queue = [...elements];
  const cursor = {
    closes: 0,
    fetches: 0,
    /** Settles the fetch under way; the test decides when (a fetch that is still reading when the stream closes). */
    hold: undefined as Promise<void> | undefined,
    async fetchColumn(rows: number, column: string, take: (text: string | null) => void): Promise<number> {
      expect(column).toBe('element');
      cursor.fetches++;
      if (cursor.hold) await cursor.hold;
      const batch = queue.splice(0, rows);
      batch.forEach(take);
      return batch.length;
    },
    async close() {
      cursor.closes++;
    },
  };
  return cursor;
}

const asCursor = (fake: ReturnType<typeof cursorOver>) => fake as unknown as RowCursor<StreamedElement>;

/** The first row of a read of `elements`: its exact length and widest element, as the statement gives them. */
function firstRow(elements: string[]): StreamedElement {
  const bytes = elements.reduce((sum, e) => sum + Buffer.byteLength(e) + 1, 0) + 1;
  const widest = Math.max(...elements.map((e) => Buffer.byteLength(e)));
  return { element: elements[0], bytes, widest };
}

describe('recordsStream', () => {
  it('gives the JSON array of the elements, exactly as long as announced, across batches that reuse their buffers', async () => {
    // Wide elements, so that a batch holds few and the read takes many batches through the same two buffers.
    const elements = Array.from({ length: 40 }, (_, i) => JSON.stringify({ i, text: 'é'.repeat(60_000 + i) }));
    expect(batchRowsFor(Buffer.byteLength(elements[39]))).toBeLessThan(elements.length / 4);
    const cursor = cursorOver(elements.slice(1));
    const stream = recordsStream(asCursor(cursor), firstRow(elements));
    const text = await stream.readAll();
    expect(text).toBe(`[${elements.join(',')}]`);
    expect(Buffer.byteLength(text)).toBe(stream.bytes);
    expect(cursor.fetches).toBeGreaterThan(4);
    expect(cursor.closes).toBe(1);
  });

  it('hands each batch as bytes that stay whole until the next piece is asked for', async () => {
    const elements = Array.from({ length: 12 }, (_, i) => `"${String(i).repeat(100_000)}"`);
    const stream = recordsStream(asCursor(cursorOver(elements.slice(1))), firstRow(elements));
    const pieces: string[] = [];
    for (let piece = await stream.next(); piece !== undefined; piece = await stream.next()) {
      // Read before the next piece: a Buffer piece is the stream's own memory, filled again later.
      pieces.push(piece.toString());
    }
    expect(pieces.join('')).toBe(`[${elements.join(',')}]`);
  });

  it('fails, rather than send a wrong body, when the rows give another length than announced', async () => {
    const elements = ['1', '2', '3'];
    const short = recordsStream(asCursor(cursorOver(['2'])), firstRow(elements));
    await expect(short.readAll()).rejects.toThrow(/not the \d+ it announced/);

    // An element wider than the widest announced does not fit the batch's buffer.
    const wide = recordsStream(asCursor(cursorOver(['2'.repeat(600_000)])), firstRow(['1', '2']));
    await expect(wide.readAll()).rejects.toThrow(/longer than its buffer|more than the \d+ bytes/);
  });

  it('writes nothing of a fetch still under way once closed, and frees the cursor once', async () => {
    const elements = ['"a"', '"b"', '"c"'];
    const cursor = cursorOver(elements.slice(1));
    let release!: () => void;
    cursor.hold = new Promise((resolve) => (release = resolve));
    const stream = recordsStream(asCursor(cursor), firstRow(elements));
    expect(await stream.next()).toBe('["a"');
    const closing = stream.close();
    release();
    await closing;
    expect(cursor.closes).toBe(1);
    expect(await stream.next()).toBeUndefined();
  });
});

describe('writeElement', () => {
  it('writes a comma and the element, and refuses one that would not fit whole', () => {
    const buffer = Buffer.alloc(8);
    const end = writeElement(buffer, 0, '"é"');
    expect(buffer.subarray(0, end).toString()).toBe(',"é"');
    expect(() => writeElement(buffer, end, '"éé"')).toThrow(/longer than its buffer/);
    expect(() => writeElement(buffer, 8, '1')).toThrow(/longer than its buffer/);
  });
});
