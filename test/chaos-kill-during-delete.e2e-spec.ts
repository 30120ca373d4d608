import { Client } from 'pg';
import { type ChaosData, countRows, DELETE_WORKER, fillWorker, prepareChaosData } from '../chaos/dataset';
import { DELETE_ROWS, killOnce } from '../chaos/kill-during-delete.scenario';
import { startChaosTarget } from './support/processes';
import { createPostgresDatabase, LOCAL_POSTGRES_URL, postgresReachable, type TestDatabase } from './support/test-database';

/**
 * The chaos suite's kill-during-delete scenario, once per ending: the server
 * process is SIGKILLed while PostgreSQL runs its 200k-row DELETE, and the
 * worker keeps all its rows or none, with the audit entry exactly when none.
 * Needs the build (the real server process) and a PostgreSQL server.
 */
describe('a server killed in the middle of a large delete (postgres, real process)', () => {
  let database: TestDatabase | undefined;
  let data: ChaosData;
  let admin: Client;
  let othersBefore: number;

  beforeAll(async () => {
    if (!(await postgresReachable())) {
      console.warn(`kill-during-delete skipped: no PostgreSQL server at ${LOCAL_POSTGRES_URL}`);
      return;
    }
    database = await createPostgresDatabase(LOCAL_POSTGRES_URL);
    const url = (database.target as { url: string }).url;
    data = await prepareChaosData(url, () => undefined, 2_000);
    await fillWorker(url, DELETE_WORKER, DELETE_ROWS);
    othersBefore = await countRows(url, 'js_worker_name <> $1', [DELETE_WORKER]);
    admin = new Client({ connectionString: url });
    await admin.connect();
  }, 60_000);

  afterAll(async () => {
    await admin?.end();
    await database?.drop();
  });

  const context = () => ({ data, startServer: () => startChaosTarget(data.url) });

  it('keeps every row when PostgreSQL aborts the orphaned statement', async () => {
    if (!database) return;
    const trial = await killOnce(context(), admin, { killDelayMs: 100, abortsOnDisconnect: true }, othersBefore);
    expect(trial.caughtMidStatement).toBe(true);
    expect(trial.rowsAfter).toBe(DELETE_ROWS);
    expect(trial.auditEntryAdded).toBe(false);
    expect(trial.countAfterRestart).toBe(DELETE_ROWS);
    expect(trial.othersChanged).toBe(0);
  }, 60_000);

  it('removes every row, with its audit entry, when PostgreSQL finishes the orphaned statement', async () => {
    if (!database) return;
    const trial = await killOnce(context(), admin, { killDelayMs: 100, abortsOnDisconnect: false }, othersBefore);
    expect(trial.caughtMidStatement).toBe(true);
    expect(trial.rowsAfter).toBe(0);
    expect(trial.auditEntryAdded).toBe(true);
    expect(trial.countAfterRestart).toBe(0);
    expect(trial.othersChanged).toBe(0);
  }, 60_000);
});
