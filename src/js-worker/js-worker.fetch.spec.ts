import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AppConfig, DEFAULT_WORKER_API_SETTINGS } from '../config/app.config';
import { FETCH_MAX_BYTES_PER_RUN, WorkerFetch } from './js-worker.fetch';

describe(WorkerFetch.name, () => {
  let server: http.Server;
  let other: http.Server;
  let port: number;
  let otherPort: number;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/json') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"hello":"wörld"}');
      if (req.url === '/echo') {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => res.writeHead(201, { 'x-method': req.method ?? '' }).end(Buffer.concat(chunks)));
        return;
      }
      if (req.url === '/hop') return void res.writeHead(302, { location: '/json' }).end();
      if (req.url === '/away') return void res.writeHead(302, { location: `http://127.0.0.1:${otherPort}/` }).end();
      if (req.url === '/huge') return void res.writeHead(200).end(Buffer.alloc(FETCH_MAX_BYTES_PER_RUN + 1));
      res.writeHead(404).end();
    });
    other = http.createServer((_req, res) => res.end('other'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    otherPort = (other.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await new Promise((resolve) => other.close(resolve));
  });

  const sutWith = (fetchAllow: string[]) => new WorkerFetch({ workerApi: { ...DEFAULT_WORKER_API_SETTINGS, fetchAllow } } as unknown as AppConfig);
  const request = (url: string, extra: Record<string, unknown> = {}) => JSON.stringify({ url, method: 'GET', headers: [], ...extra });

  async function answerOf(sut: WorkerFetch, payload: string) {
    const answer = await sut.fetch(payload, sut.budget());
    return answer.ok ? { ok: true, value: JSON.parse(answer.json as string) } : answer;
  }

  it('fetches from a host listed exactly, loopback included, and returns status, headers and body', async () => {
    const answer = await answerOf(sutWith([`127.0.0.1:${port}`]), request(`http://127.0.0.1:${port}/json`));

    expect(answer).toEqual({
      ok: true,
      value: expect.objectContaining({ status: 200, url: `http://127.0.0.1:${port}/json`, redirected: false, headers: expect.arrayContaining([['content-type', 'application/json']]) }),
    });
    expect(Buffer.from((answer as { value: { bodyBase64: string } }).value.bodyBase64, 'base64').toString()).toBe('{"hello":"wörld"}');
  });

  it('sends the method and body', async () => {
    const answer = await answerOf(sutWith([`127.0.0.1:${port}`]), request(`http://127.0.0.1:${port}/echo`, { method: 'PUT', body: 'ü' }));

    expect(answer).toEqual({ ok: true, value: expect.objectContaining({ status: 201, bodyBase64: Buffer.from('ü').toString('base64'), headers: expect.arrayContaining([['x-method', 'PUT']]) }) });
  });

  it('follows a redirect within the list', async () => {
    const answer = await answerOf(sutWith([`127.0.0.1:${port}`]), request(`http://127.0.0.1:${port}/hop`));

    expect(answer).toEqual({ ok: true, value: expect.objectContaining({ status: 200, redirected: true, url: `http://127.0.0.1:${port}/json` }) });
  });

  it.each([
    ['any request when nothing is allowed', [], '/json', 'fetch: disabled: this server allows scripts no network access (WORKER_FETCH_ALLOW is empty)'],
    ['a host that is not listed', ['example.com'], '/json', `fetch: 127.0.0.1:PORT is not an allowed host (WORKER_FETCH_ALLOW)`],
    ['another port of a listed host', ['127.0.0.1:1'], '/json', `fetch: 127.0.0.1:PORT is not an allowed host (WORKER_FETCH_ALLOW)`],
    ['a loopback address reached through a wildcard', ['*'], '/json', 'fetch: 127.0.0.1 resolves to 127.0.0.1, a loopback, private or reserved address; list the host itself in WORKER_FETCH_ALLOW to allow it'],
    ['a redirect leaving the list', ['127.0.0.1:PORT'], '/away', 'fetch: 127.0.0.1:OTHER is not an allowed host (WORKER_FETCH_ALLOW)'],
    ['a response past the run\'s bytes', ['127.0.0.1:PORT'], '/huge', `fetch: the responses passed ${FETCH_MAX_BYTES_PER_RUN} bytes, the most one run may receive`],
  ])('refuses %s', async (_, allow, path, message) => {
    const fill = (text: string) => text.replace('PORT', String(port)).replace('OTHER', String(otherPort));

    const answer = await answerOf(sutWith(allow.map(fill)), request(`http://127.0.0.1:${port}${path}`));

    expect(answer).toEqual({ ok: false, error: fill(message) });
  });

  it('refuses URLs that are not http or https', async () => {
    expect(await answerOf(sutWith(['*']), request('file:///etc/passwd'))).toEqual({ ok: false, error: 'fetch: only http and https URLs can be fetched, not file:' });
  });
});
