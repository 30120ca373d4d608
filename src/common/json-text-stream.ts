/**
 * A piece of a JsonTextStream's text: a string, or its UTF-8 bytes. A Buffer
 * piece may be memory its source fills again for a later piece, so it is
 * valid only until `next` is called again: whoever keeps it longer copies it,
 * and a transport finishes writing it before asking for the next.
 */
export type TextPiece = string | Buffer;

/** A piece's length in UTF-8 bytes. */
export const pieceBytes = (piece: TextPiece): number => (typeof piece === 'string' ? Buffer.byteLength(piece) : piece.length);

/**
 * Where a JsonTextStream's text comes from, a piece at a time: `next` gives
 * the next piece, or undefined once all of it was given; `close` frees what
 * the source holds (a database session), and is called exactly once.
 */
export interface TextSource {
  next(): Promise<TextPiece | undefined>;
  close(): Promise<void>;
}

/**
 * A value that is JSON text of a known exact length in UTF-8 bytes, given in
 * pieces as it is produced (a large read's records, as the database reads
 * them). Its length is known before any piece is, so a reply can be charged
 * and its Content-Length written before anything is sent. Whoever receives
 * one must read it to the end or close it: until then it holds its source
 * (a database connection); `closed` settles once it is freed.
 */
export class JsonTextStream {
  private state: 'open' | 'closing' | 'closed' = 'open';
  private readonly freed: Promise<void>;
  private free!: () => void;

  constructor(
    /** The whole text's length in UTF-8 bytes. */
    readonly bytes: number,
    private readonly source: TextSource,
  ) {
    this.freed = new Promise((resolve) => (this.free = resolve));
  }

  /** Settles once the source was freed, whichever way the stream ended. */
  get closed(): Promise<void> {
    return this.freed;
  }

  /** The next piece, or undefined at the end (the source is freed then). A failing source is freed, then its error thrown. */
  async next(): Promise<TextPiece | undefined> {
    if (this.state !== 'open') return undefined;
    let piece: TextPiece | undefined;
    try {
      piece = await this.source.next();
    } catch (error) {
      await this.close();
      throw error;
    }
    if (piece === undefined) await this.close();
    return piece;
  }

  /** Frees the source; at most once, whatever the callers. */
  async close(): Promise<void> {
    if (this.state !== 'open') return this.freed;
    this.state = 'closing';
    try {
      await this.source.close();
    } finally {
      this.state = 'closed';
      this.free();
    }
  }

  /** The whole text, read to the end (for transports that need it whole). */
  async readAll(): Promise<string> {
    const pieces: string[] = [];
    // A Buffer piece is decoded (copied) before the next is asked for, which may reuse its memory.
    for (let piece = await this.next(); piece !== undefined; piece = await this.next()) pieces.push(piece.toString());
    return pieces.join('');
  }

  /**
   * This stream's text between `prefix` and `suffix` (short texts), as one
   * stream of their lengths together. The prefix goes with the first piece
   * when that is a string; before a Buffer piece it is a piece of its own.
   */
  wrapped(prefix: string, suffix: string): JsonTextStream {
    let stage: 'prefix' | 'held' | 'body' | 'done' = 'prefix';
    let held: Buffer | undefined;
    const inner = this;
    return new JsonTextStream(Buffer.byteLength(prefix) + this.bytes + Buffer.byteLength(suffix), {
      async next() {
        if (stage === 'prefix') {
          const first = await inner.next();
          if (first === undefined) {
            stage = 'done';
            return prefix + suffix;
          }
          if (typeof first === 'string') {
            stage = 'body';
            return prefix + first;
          }
          stage = 'held';
          held = first;
          return prefix;
        }
        if (stage === 'held') {
          stage = 'body';
          const first = held as Buffer;
          held = undefined;
          return first;
        }
        if (stage === 'done') return undefined;
        const piece = await inner.next();
        if (piece !== undefined) return piece;
        stage = 'done';
        return suffix;
      },
      close: () => inner.close(),
    });
  }

  /** For anything else that serialises it: it cannot be written synchronously. */
  toJSON(): never {
    throw new Error('a JsonTextStream is written by its transport, not serialised');
  }
}
