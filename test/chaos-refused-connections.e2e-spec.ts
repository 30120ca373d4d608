import { Client } from 'pg';
import { type ChaosData, prepareChaosData } from '../chaos/dataset';
import { outageUnderLoad } from '../chaos/outage';
import { refusingOutage } from '../chaos/refused-connections.scenario';
import type { ScenarioResult } from '../chaos/scenario';
import { startChaosTarget } from './support/processes';
import { createPostgresDatabase, LOCAL_POSTGRES_URL, postgresReachable, type TestDatabase } from './support/test-database';

/**
 * The chaos suite's refused-connections scenario, shortened: 16 clients read
 * while the test's own database refuses connections and its sessions are
 * terminated. Only this test's database is touched, never the server's others.
 */
describe('a database that refuses connections under load (postgres, real process)', () => {
  let database: TestDatabase | undefined;
  let data: ChaosData;
  let result: ScenarioResult;

  beforeAll(async () => {
    if (!(await postgresReachable())) {
      console.warn(`refused-connections skipped: no PostgreSQL server at ${LOCAL_POSTGRES_URL}`);
      return;
    }
    database = await createPostgresDatabase(LOCAL_POSTGRES_URL);
    const url = (database.target as { url: string }).url;
    data = await prepareChaosData(url, () => undefined, 2_000);
    const name = new URL(url).pathname.slice(1);
    const admin = async (sql: string, params?: unknown[]) => {
      const client = new Client({ connectionString: LOCAL_POSTGRES_URL });
      await client.connect();
      try {
        await client.query(sql, params);
      } finally {
        await client.end();
      }
    };
    const context = { data, log: () => undefined, startServer: () => startChaosTarget(url) };
    result = await outageUnderLoad(context, refusingOutage(admin, name), { warmMs: 2_000, outageMs: 3_000, afterMs: 4_000 });
  }, 90_000);

  afterAll(async () => database?.drop());

  const outcome = (name: string) => result.checks.find((c) => c.name.startsWith(name))!;

  it('answers every call while refused, with 103 as the only error', () => {
    if (!database) return;
    expect(outcome('the outage was felt')).toMatchObject({ ok: true });
    expect(result.errorsByCode).toEqual({ 103: expect.any(Number) });
    expect(result.timedOut).toBe(0);
  });

  it('serves at full throughput again within seconds of the database allowing connections', () => {
    if (!database) return;
    expect(outcome('first success')).toMatchObject({ ok: true });
    expect(outcome('full throughput')).toMatchObject({ ok: true });
  });
});
