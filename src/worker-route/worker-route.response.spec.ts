import { RouteFailure } from './worker-route.errors';
import { answerFrom } from './worker-route.response';

const bytes = (text: string) => new Uint8Array(Buffer.from(text));

describe(answerFrom.name, () => {
  const sut = answerFrom;

  it('keeps the allowed headers, whatever their case, and drops the others and those Node could not write', () => {
    const answer = sut(
      {
        status: 200,
        headers: [
          ['Content-Type', 'text/plain'],
          ['etag', '"1"'],
          ['set-cookie', 'a=b'],
          ['content-length', '99'],
          ['cache-control', 'no-store\r\nset-cookie: a=b'],
        ],
        body: bytes('hi'),
      },
      10,
    );
    expect(answer.headers).toEqual([
      ['Content-Type', 'text/plain'],
      ['etag', '"1"'],
    ]);
    expect(answer.body.toString()).toBe('hi');
  });

  it.each([0, 199, 600, 200.5, Number.NaN])('refuses status %p with a 500', (status) => {
    expect(() => sut({ status, headers: [], body: bytes('') }, 10)).toThrow(RouteFailure);
  });

  it('refuses a body over the limit and takes one at it', () => {
    expect(sut({ status: 204, headers: [], body: bytes('0123456789') }, 10).body.length).toBe(10);
    expect(() => sut({ status: 200, headers: [], body: bytes('0123456789A') }, 10)).toThrow("the worker's response body exceeds 10 bytes");
  });
});
