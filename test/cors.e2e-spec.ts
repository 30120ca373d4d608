import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type Browser, chromium } from 'playwright-core';
import request from 'supertest';
import { call, startTestApp, type TestApp } from './support/test-app';
import { backendName, serverUrl } from './support/test-database';

const ALLOWED = 'https://dash.example.com';
const REFUSED = 'https://evil.example.com';
const RPC_PATHS = ['/', '/nodeget/rpc'];

/** Debian's chromium (`apt-get install chromium`; .ci/run installs it). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const preflight = (app: NestFastifyApplication, path: string, origin: string) =>
  request(app.getHttpServer())
    .options(path)
    .set('Origin', origin)
    .set('Access-Control-Request-Method', 'POST')
    .set('Access-Control-Request-Headers', 'content-type');

const post = (app: NestFastifyApplication, path: string, origin: string, body: unknown) =>
  request(app.getHttpServer()).post(path).set('Origin', origin).set('Content-Type', 'application/json').send(JSON.stringify(body));

/** CORS_ORIGINS over HTTP: which origins get the headers, and what a preflight is answered. */
describe(`CORS (${backendName})`, () => {
  const open: TestApp[] = [];
  const start = async (corsOrigins: string[]) => {
    const t = await startTestApp({ corsOrigins });
    open.push(t);
    return t;
  };

  afterAll(async () => {
    await Promise.all(open.map((t) => t.close()));
  });

  it('sends no CORS headers and answers no preflight when CORS_ORIGINS is unset', async () => {
    const t = await start([]);
    const res = await preflight(t.app, '/', ALLOWED);
    expect(res.status).toBe(404);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const answered = await post(t.app, '/', ALLOWED, call('js-result_query', { token: t.superToken, query: { condition: [] } }));
    expect(answered.status).toBe(200);
    expect(answered.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers the preflight of a listed origin on both JSON-RPC paths, without credentials', async () => {
    const t = await start([ALLOWED, 'http://localhost:8080']);
    for (const path of RPC_PATHS) {
      const res = await preflight(t.app, path, ALLOWED);
      expect(res.status).toBe(204);
      expect(res.headers).toMatchObject({
        'access-control-allow-origin': ALLOWED,
        'access-control-allow-methods': 'GET, POST',
        'access-control-allow-headers': 'Content-Type, X-Request-Id',
      });
      expect(res.headers.vary).toMatch(/origin/i);
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
      const answered = await post(t.app, path, ALLOWED, call('js-result_query', { token: t.superToken, query: { condition: [] } }));
      expect(answered.body).toEqual({ jsonrpc: '2.0', id: 1, result: [] });
      expect(answered.headers['access-control-allow-origin']).toBe(ALLOWED);
    }
  });

  it('gives an origin not on the list no Access-Control-Allow-Origin, so its browser keeps the reply from the page', async () => {
    const t = await start([ALLOWED]);
    for (const path of RPC_PATHS) {
      const res = await preflight(t.app, path, REFUSED);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      const answered = await post(t.app, path, REFUSED, call('js-result_query', { token: t.superToken, query: { condition: [] } }));
      expect(answered.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('allows any origin with *, never with credentials', async () => {
    const t = await start(['*']);
    const res = await preflight(t.app, '/nodeget/rpc', REFUSED);
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });
});

/** A page served by `server` on its own origin, from which the browser calls the service. */
async function servePage(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>dashboard</title>'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/**
 * A real browser (Debian's chromium, headless) calling the service from a page
 * on another origin: the CORS rules that matter are the browser's. CORS does
 * not depend on the database, so this runs on the embedded backend only.
 */
const browserSuite = serverUrl ? describe.skip : describe;
browserSuite('CORS in a real browser (embedded; the PostgreSQL run skips it: CORS does not touch the database)', () => {
  let t: TestApp;
  let browser: Browser;
  let allowed: { server: Server; origin: string };
  let refused: { server: Server; origin: string };
  let service: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      // CI must not pass without the browser test: only an explicit opt-out skips it.
      if (process.env.SKIP_BROWSER_TESTS === '1') return;
      throw new Error(`no chromium at ${CHROMIUM}: install it (apt-get install chromium) or set SKIP_BROWSER_TESTS=1`);
    }
    allowed = await servePage();
    refused = await servePage();
    t = await startTestApp({ corsOrigins: [allowed.origin] });
    await t.app.listen(0, '127.0.0.1');
    service = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    // The sandbox needs user namespaces, which containers (and root) usually lack.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    for (const page of [allowed, refused]) if (page) await new Promise((resolve) => page.server.close(resolve));
  });

  /** Runs fetch() in a page of `origin`: the reply's body, or the error the page sees. */
  async function callFrom(origin: string, path: string): Promise<{ body?: unknown; error?: string }> {
    const page = await browser.newPage();
    try {
      await page.goto(`${origin}/`);
      return await page.evaluate(
        async ({ url, body }) => {
          try {
            const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
            return { body: await res.json() };
          } catch (error) {
            return { error: String(error) };
          }
        },
        { url: `${service}${path}`, body: JSON.stringify(call('js-result_query', { token: t.superToken, query: { condition: [] } })) },
      );
    } finally {
      await page.close();
    }
  }

  it('lets a page on an allowed origin call the service, and keeps the reply from a page on another', async () => {
    if (!browser) return console.warn('browser test skipped: SKIP_BROWSER_TESTS=1 and no chromium');
    for (const path of RPC_PATHS) {
      expect(await callFrom(allowed.origin, path)).toEqual({ body: { jsonrpc: '2.0', id: 1, result: [] } });
      expect(await callFrom(refused.origin, path)).toEqual({ error: expect.stringMatching(/TypeError: Failed to fetch/) });
    }
  });
});
