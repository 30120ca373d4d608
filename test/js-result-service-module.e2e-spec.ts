import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { type CanActivate, Controller, Get, Injectable, Module } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import WebSocket from 'ws';
import { JsResultServiceModule } from '../src';
import type { JsResultServiceOptions } from '../src/config/service.options';
import { createToken, dataSourceOf, seedResults } from '../src/testing';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/** The host's own global guard: it refuses everything, and counts what it saw. */
@Injectable()
class RefuseAll implements CanActivate {
  static seen = 0;
  canActivate(): boolean {
    RefuseAll.seen++;
    return false;
  }
}

@Controller('own')
class OwnController {
  @Get()
  own() {
    return { own: true };
  }
}

function hostModule(options: JsResultServiceOptions) {
  @Module({
    imports: [JsResultServiceModule.forRoot(options)],
    controllers: [OwnController],
    providers: [{ provide: APP_GUARD, useClass: RefuseAll }],
  })
  class HostModule {}
  return HostModule;
}

async function startHost(options: JsResultServiceOptions): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(hostModule(options), new FastifyAdapter(), { logger: false, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  return app;
}

const databaseOptions = (db: TestDatabase): JsResultServiceOptions =>
  db.target.kind === 'postgres' ? { databaseUrl: db.target.url } : { dataDir: db.target.dataDir };

describe('JsResultServiceModule in an application of its own', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startHost({ ...databaseOptions(db), paths: ['/api/jsr'], jsWorkerPoolSize: 1, corsOrigins: ['https://app.example'] });
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('answers JSON-RPC at the configured path, past the host guard', async () => {
    const token = await createToken(app, [{ scopes: [{ js_worker: 'w' }], permissions: [{ js_result: { read: 'w' } }] }]);
    await seedResults(dataSourceOf(app), [{ jsWorkerName: 'w', startTime: 1, result: 'x' }]);
    const seen = RefuseAll.seen;
    const res = await request(app.getHttpServer())
      .post('/api/jsr?ignored=1')
      .set('content-type', 'text/plain')
      .send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'js-result_query', params: { token, query: { condition: [{ js_worker_name: 'w' }] } } }))
      .expect(200);
    expect(res.body.result.map((row: { result: unknown }) => row.result)).toEqual(['x']);
    expect(RefuseAll.seen).toBe(seen);
  });

  it("leaves the host's routes to the host, and mounts no other route", async () => {
    await request(app.getHttpServer()).get('/own').expect(403);
    for (const path of ['/', '/nodeget/rpc', '/health', '/health/ready', '/metrics', '/openrpc.json']) {
      const res = await request(app.getHttpServer()).get(path);
      expect([path, res.status]).toEqual([path, 404]);
    }
    await request(app.getHttpServer()).post('/').send('{}').expect(404);
  });

  it("validates params before the service's own guards, as the standalone server does", async () => {
    const res = await request(app.getHttpServer())
      .post('/api/jsr')
      .send({ jsonrpc: '2.0', id: 1, method: 'js-result_query', params: { token: 'nope', query: { condition: 'x' } } })
      .expect(200);
    expect(res.body.error.code).toBe(-32602);
  });

  it('answers CORS for the mounted paths as corsOrigins says', async () => {
    const preflight = await request(app.getHttpServer())
      .options('/api/jsr')
      .set('origin', 'https://app.example')
      .set('access-control-request-method', 'POST')
      .expect(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(preflight.headers['access-control-allow-methods']).toContain('POST');
    const call = { jsonrpc: '2.0', id: 1, method: 'rpc.discover' };
    const allowed = await request(app.getHttpServer()).post('/api/jsr').set('origin', 'https://app.example').send(call).expect(200);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example');
    const other = await request(app.getHttpServer()).post('/api/jsr').set('origin', 'https://evil.example').send(call).expect(200);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers over WebSocket at the configured path, and drops upgrades elsewhere', async () => {
    const url = (path: string) => `ws://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}${path}`;
    const socket = new WebSocket(url('/api/jsr'));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const reply = new Promise<string>((resolve) => socket.once('message', (data) => resolve(String(data))));
    socket.send(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'rpc.discover' }));
    expect(JSON.parse(await reply).id).toBe(3);
    socket.close();
    const elsewhere = new WebSocket(url('/elsewhere'));
    await expect(new Promise((resolve, reject) => elsewhere.once('open', resolve).once('error', reject))).rejects.toThrow();
  });

  it('answers rpc.discover with the document', async () => {
    const res = await request(app.getHttpServer()).post('/api/jsr').send({ jsonrpc: '2.0', id: 1, method: 'rpc.discover' }).expect(200);
    expect(res.body.result.openrpc).toMatch(/^1\.3/);
    expect(res.body.result.servers.map((server: { url: string }) => new URL(server.url).pathname)).toEqual(['/api/jsr', '/api/jsr']);
  });
});

describe('JsResultServiceModule with migrationsRun: false', () => {
  it('applies no migration at start', async () => {
    const db = await createTestDatabase();
    try {
      const app = await startHost({ ...databaseOptions(db), migrationsRun: false, jsWorkerPoolSize: 1 });
      const [row] = await dataSourceOf(app).query("SELECT to_regclass('js_result') AS t");
      await app.close();
      expect(row.t).toBeNull();
    } finally {
      await db.drop();
    }
  });
});

describe('JsResultServiceModule options', () => {
  it.each([
    [{ paths: ['/rpc'], dataDir: 'memory://', poolSizee: 2 }, 'poolSizee'],
    [{ paths: ['/rpc'], dataDir: 'memory://', poolSize: 'two' }, 'poolSize'],
    [{ paths: ['/rpc'], dataDir: 'memory://', tokenCacheTtlMs: 5_000 }, 'tokenCacheTtlMs'],
  ])('stops the start on %j, naming %s', async (options, name) => {
    await expect(startHost(options as JsResultServiceOptions)).rejects.toThrow(new RegExp(`invalid JsResultServiceModule options: .*${name}`));
  });
});

describe('the README', () => {
  it('quotes the testing example this suite runs', () => {
    const example = readFileSync(`${__dirname}/readme-testing.e2e-spec.ts`, 'utf8').replace("'../src/testing'", "'js-result-service/testing'");
    expect(readFileSync(`${__dirname}/../README.md`, 'utf8')).toContain(example.trim());
  });
});
