import { ReplyBytes, readReply } from './pglite.reply';

/** One backend message: its code, then its length (itself included) and body. */
function message(code: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(5);
  head.write(code, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const int16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const cstring = (s: string) => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);

function description(columns: [string, number][]): Buffer {
  return message('T', int16(columns.length), ...columns.flatMap(([name, type]) => [cstring(name), int32(0), int16(0), int32(type), int16(-1), int32(-1), int16(0)]));
}

function dataRow(values: (string | null)[]): Buffer {
  return message('D', int16(values.length), ...values.flatMap((v) => (v === null ? [int32(-1)] : [int32(Buffer.byteLength(v)), Buffer.from(v, 'utf8')])));
}

const INT4 = 23;
const TEXT = 25;
const JSONB = 3802;
const parsers = { [INT4]: (v: string) => Number(v), [JSONB]: (v: string) => JSON.parse(v) as unknown };

describe(readReply.name, () => {
  it('reads rows by column name through their types’ parsers, nulls as null, and the command’s row count', () => {
    const bytes = Buffer.concat([
      message('2'),
      description([['n', INT4], ['name', TEXT], ['value', JSONB]]),
      dataRow(['1', 'wörker ✓', '{"a":[1]}']),
      dataRow(['2', null, null]),
      message('C', cstring('SELECT 2')),
      message('Z', Buffer.from('I')),
    ]);

    expect(readReply(bytes, parsers)).toEqual({
      result: { rows: [{ n: 1, name: 'wörker ✓', value: { a: [1] } }, { n: 2, name: null, value: null }], rowCount: 2, command: 'SELECT' },
      error: undefined,
      notifications: [],
    });
  });

  it('gives a command without a count none, and the error PGlite’s parser makes of an error message', () => {
    const error = message('E', Buffer.from('S'), cstring('ERROR'), Buffer.from('C'), cstring('22012'), Buffer.from('M'), cstring('division by zero'), Buffer.from([0]));
    const failed = readReply(Buffer.concat([error, message('Z', Buffer.from('I'))]), parsers);
    expect(failed.error).toBeInstanceOf(Error);
    expect(failed.error).toMatchObject({ message: 'division by zero', code: '22012', severity: 'ERROR' });

    const created = readReply(Buffer.concat([message('C', cstring('CREATE TABLE')), message('Z', Buffer.from('I'))]), parsers);
    expect(created.result).toEqual({ rows: [], rowCount: 0, command: 'CREATE' });
  });

  it('collects notifications with their channel and payload', () => {
    const bytes = Buffer.concat([message('A', int32(42), cstring('jsr_channel'), cstring('päyload')), message('C', cstring('SELECT 0'))]);
    expect(readReply(bytes, parsers).notifications).toEqual([{ channel: 'jsr_channel', payload: 'päyload' }]);
  });
});

describe(ReplyBytes.name, () => {
  it('keeps every chunk in order, copied, however far it has to grow', () => {
    const sut = new ReplyBytes();
    const chunk = new Uint8Array(10_000);
    for (let i = 0; i < 5; i++) {
      chunk.fill(i + 1);
      sut.push(chunk);
    }
    chunk.fill(0);

    expect(sut.bytes.length).toBe(50_000);
    expect([sut.bytes[0], sut.bytes[19_999], sut.bytes[20_000], sut.bytes[49_999]]).toEqual([1, 2, 3, 5]);
  });
});
