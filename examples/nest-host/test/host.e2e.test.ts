import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { getDataSourceToken } from '@nestjs/typeorm';
import { JSR_DATA_SOURCE } from 'js-result-service';
import { createToken, dataSourceOf, seedResults } from 'js-result-service/testing';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import WebSocket from 'ws';
import { AppModule } from '../src/app.module';
import { GuardLog, HOST_KEY, HOST_KEY_HEADER } from '../src/host.guard';


async function start(adapter: 'fastify' | 'express'): Promise<INestApplication> {
  const app =
    adapter === 'fastify'
      ? await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), { logger: false })
      : await NestFactory.create(AppModule, new ExpressAdapter(), { logger: false });
  await app.listen(0, '127.0.0.1');
  return app;
}

function wsCall(url: string, payload: unknown): Promise<{ socket: WebSocket; reply: any }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once('error', reject);
    socket.once('open', () => socket.send(JSON.stringify(payload)));
    socket.once('message', (data) => resolve({ socket, reply: JSON.parse(String(data)) }));
  });
}

describe.each(['fastify', 'express'] as const)('a NestJS host application on %s', (adapter) => {
  let app: INestApplication;
  let token: string;
  // A worker of each run's own: on a PostgreSQL database the other adapter's rows are there too.
  const worker = `w_${adapter}`;

  beforeAll(async () => {
    app = await start(adapter);
    token = await createToken(app, [{ scopes: [{ js_worker: worker }], permissions: [{ js_result: { read: worker } }] }]);
    await seedResults(dataSourceOf(app), [
      { jsWorkerName: worker, startTime: 1, result: 1 },
      { jsWorkerName: worker, startTime: 2, result: 2 },
      { jsWorkerName: 'other', startTime: 3, result: 3 },
    ]);
  });

  afterAll(async () => {
    if (app) await app.close().catch(() => undefined);
  });

  const query = (id: number) => ({ jsonrpc: '2.0', id, method: 'js-result_query', params: { token, query: { condition: [{ js_worker_name: worker }] } } });

  it('keeps its own route, guard and default DataSource', async () => {
    await request(app.getHttpServer()).get('/host/hello').expect(403);
    const res = await request(app.getHttpServer()).get('/host/hello').set(HOST_KEY_HEADER, HOST_KEY).expect(200);
    expect(res.body).toEqual({ hello: 'host', answer: 42 });
    // Two DataSources side by side: the host's default one and the service's own.
    const hostDataSource = app.get<DataSource>(getDataSourceToken());
    expect(hostDataSource).not.toBe(dataSourceOf(app));
    expect(getDataSourceToken(JSR_DATA_SOURCE)).not.toBe(getDataSourceToken());
  });

  it('answers JSON-RPC at the mounted path without the host guard running', async () => {
    const guard = app.get(GuardLog);
    const before = guard.count;
    const single = await request(app.getHttpServer()).post('/rpc').set('content-type', 'application/json').send(JSON.stringify(query(1)));
    expect(single.status).toBe(200);
    expect(single.body.result.map((row: { result: number }) => row.result)).toEqual([2, 1]);
    const batch = await request(app.getHttpServer()).post('/rpc').set('content-type', 'application/json').send(JSON.stringify([query(1), query(2)]));
    expect(batch.body.map((reply: { id: number }) => reply.id).sort()).toEqual([1, 2]);
    const { socket, reply } = await wsCall(`ws://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}/rpc`, query(7));
    expect(reply.id).toBe(7);
    expect(reply.result).toHaveLength(2);
    socket.close();
    expect(guard.count).toBe(before);
  });

  it('mounts nothing else: the standalone server routes are not there', async () => {
    await request(app.getHttpServer()).post('/').set(HOST_KEY_HEADER, HOST_KEY).send('{}').expect(404);
    await request(app.getHttpServer()).get('/health').set(HOST_KEY_HEADER, HOST_KEY).expect(404);
    await request(app.getHttpServer()).get('/rpc').set(HOST_KEY_HEADER, HOST_KEY).expect(404);
  });

  it('closes everything on shutdown', async () => {
    const port = (app.getHttpServer().address() as AddressInfo).port;
    const { socket } = await wsCall(`ws://127.0.0.1:${port}/rpc`, query(1));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    const hostDataSource = app.get<DataSource>(getDataSourceToken());
    const serviceDataSource = dataSourceOf(app);
    await app.close();
    expect(await closed).toBe(1001);
    expect(hostDataSource.isInitialized).toBe(false);
    expect(serviceDataSource.isInitialized).toBe(false);
    expect(app.getHttpServer().listening).toBe(false);
  });
});
