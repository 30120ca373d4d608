import { createServer, request as httpRequest, type Server } from 'node:http';
import { Logger } from '@nestjs/common';
import request from 'supertest';
import { type JsonRpcBodyHandler, JsonRpcHttpEntry } from './json-rpc.http-entry';

describe(JsonRpcHttpEntry.name, () => {
  let sut: JsonRpcHttpEntry;
  let server: Server;
  let passedOn: string[];

  beforeEach(() => {
    sut = new JsonRpcHttpEntry(64);
    passedOn = [];
    server = createServer(
      sut.listener((req, res) => {
        passedOn.push(`${req.method} ${req.url}`);
        res.writeHead(404).end();
      }),
    );
  });

  afterEach(() => jest.restoreAllMocks());

  it('passes every request on until a handler is attached', async () => {
    expect((await request(server).post('/').send('{}')).status).toBe(404);
    expect(passedOn).toEqual(['POST /']);
  });

  it('hands the body to the handler as text, whatever the content type', async () => {
    const bodies: string[] = [];
    sut.attach({ handle: async (body) => (bodies.push(body), '{"ok":1}') });
    const res = await request(server).post('/nodeget/rpc').set('Content-Type', 'text/plain').send('{"x":"é"}');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.text).toBe('{"ok":1}');
    expect(bodies).toEqual(['{"x":"é"}']);
    expect(passedOn).toEqual([]);
  });

  it('answers -32603 with nothing of the failure when the handler throws, and logs it', async () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const failing: JsonRpcBodyHandler = { handle: () => Promise.reject(new Error('secret detail at db.internal:5432')) };
    sut.attach(failing);
    const res = await request(server).post('/').send('{}');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32603, message: 'Internal error' } });
    expect(res.text).not.toContain('secret');
    expect(logged).toHaveBeenCalledWith(expect.stringContaining('secret detail'));
  });

  it('refuses a body over the limit with 413, sent in pieces or announced by Content-Length, without calling the handler', async () => {
    let calls = 0;
    sut.attach({ handle: async () => (calls++, '{}') });
    const announced = await request(server).post('/').send('x'.repeat(65));
    expect(announced.status).toBe(413);
    expect(announced.headers.connection).toBe('close');
    const chunked = await new Promise<number>((resolve, reject) => {
      server.listen(0, () => {
        const { port } = server.address() as { port: number };
        const req = httpRequest({ port, method: 'POST', path: '/', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
          server.close();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.write('x'.repeat(40));
        req.end('x'.repeat(40));
      });
    });
    expect(chunked).toBe(413);
    expect(calls).toBe(0);
  });
});
