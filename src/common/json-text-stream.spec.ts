import { JsonTextStream, type TextSource } from './json-text-stream';

function sourceOf(pieces: (string | Buffer)[], fail?: Error): TextSource & { closes: number } {
  const queue = [...pieces];
  const source = {
    closes: 0,
    async next() {
      if (queue.length === 0 && fail) throw fail;
      return queue.shift();
    },
    async close() {
      source.closes++;
    },
  };
  return source;
}

describe(JsonTextStream.name, () => {
  it('gives its pieces in order, then frees its source once, at the end', async () => {
    const source = sourceOf(['[1', ',2', ']']);
    const stream = new JsonTextStream(5, source);
    expect(await stream.readAll()).toBe('[1,2]');
    expect(await stream.next()).toBeUndefined();
    await stream.close();
    await stream.closed;
    expect(source.closes).toBe(1);
  });

  it('wraps its text, the length counting the wrapping in UTF-8 bytes', async () => {
    const source = sourceOf(['["é"', ']']);
    const stream = new JsonTextStream(6, source).wrapped('{"items":', ',"next":"ü"}');
    expect(stream.bytes).toBe(Buffer.byteLength('{"items":["é"],"next":"ü"}'));
    expect(await stream.readAll()).toBe('{"items":["é"],"next":"ü"}');
    expect(source.closes).toBe(1);
  });

  it('frees its source when closed before the end, and when the source fails', async () => {
    const early = sourceOf(['[1', ']']);
    const stream = new JsonTextStream(3, early);
    expect(await stream.next()).toBe('[1');
    await Promise.all([stream.close(), stream.close()]);
    expect(early.closes).toBe(1);
    expect(await stream.next()).toBeUndefined();

    const failing = sourceOf(['[1'], new Error('connection lost'));
    const broken = new JsonTextStream(3, failing);
    await expect(broken.readAll()).rejects.toThrow('connection lost');
    expect(failing.closes).toBe(1);
  });

  it('reads Buffer pieces of one reused buffer whole, and wraps a Buffer first piece after its own prefix piece', async () => {
    const shared = Buffer.alloc(8);
    const refilled = (text: string) => shared.subarray(0, shared.write(text));
    const pieces = ['[', '"é"', ',"ü"', ']'];
    const source: TextSource = {
      next: async () => {
        const next = pieces.shift();
        return next === undefined || next === '[' || next === ']' ? next : refilled(next);
      },
      close: async () => undefined,
    };
    const bytes = Buffer.byteLength('["é","ü"]');
    expect(await new JsonTextStream(bytes, source).readAll()).toBe('["é","ü"]');

    const wrapped = new JsonTextStream(bytes, sourceOf([Buffer.from('["é"'), ',"ü"]'])).wrapped('{"r":', '}');
    const given: string[] = [];
    for (let piece = await wrapped.next(); piece !== undefined; piece = await wrapped.next()) given.push(piece.toString());
    expect(given).toEqual(['{"r":', '["é"', ',"ü"]', '}']);
    expect(wrapped.bytes).toBe(Buffer.byteLength(given.join('')));
  });

  it('cannot be serialised as a value', () => {
    expect(() => JSON.stringify({ result: new JsonTextStream(2, sourceOf(['[]'])) })).toThrow(/written by its transport/);
  });
});
