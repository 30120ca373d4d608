import request from 'supertest';
import { createTestingApp, type TestingApp } from '../src/testing';

describe('my application against js-result-service', () => {
  let service: TestingApp;

  beforeAll(async () => {
    // An in-memory embedded database; createTestingApp({ databaseUrl }) uses a PostgreSQL database instead.
    service = await createTestingApp();
    await service.seedResults([
      { jsWorkerName: 'reports', startTime: 1_700_000_000_000, result: { total: 3 } },
      { jsWorkerName: 'reports', startTime: 1_700_000_001_000, result: { total: 5 } },
      { jsWorkerName: 'billing', startTime: 1_700_000_002_000, result: { total: 8 } },
    ]);
  });

  afterAll(() => service.close());

  it('reads the newest result of a worker with a token limited to it', async () => {
    const token = await service.createToken([
      { scopes: [{ js_worker: 'reports' }], permissions: [{ js_result: { read: 'reports' } }] },
    ]);
    const query = { condition: [{ js_worker_name: 'reports' }, { limit: 1 }] };
    const res = await request(service.app.getHttpServer())
      .post('/')
      .send({ jsonrpc: '2.0', id: 1, method: 'js-result_query', params: { token, query } })
      .expect(200);
    expect(res.body.result).toHaveLength(1);
    expect(res.body.result[0].result).toEqual({ total: 5 });
  });

  it('refuses what the token does not allow', async () => {
    const token = await service.createToken([
      { scopes: [{ js_worker: 'reports' }], permissions: [{ js_result: { read: 'reports' } }] },
    ]);
    const query = { condition: [{ js_worker_name: 'billing' }] };
    const res = await request(service.app.getHttpServer())
      .post('/')
      .send({ jsonrpc: '2.0', id: 2, method: 'js-result_query', params: { token, query } })
      .expect(200);
    expect(res.body.error.code).toBe(102);
  });
});
