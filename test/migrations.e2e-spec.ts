import { openDataSource } from '../src/database/data-source.factory';
import { createTestDatabase } from './support/test-database';
import { backendName } from './support/test-database';

const tables = async (ds: Awaited<ReturnType<typeof openDataSource>>) =>
  (
    await ds.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`)
  ).map((r: { table_name: string }) => r.table_name);

/** The schema comes only from migrations, and every migration can be undone. */
describe(`migrations (${backendName})`, () => {
  it('apply on open, revert one by one down to nothing, and apply again', async () => {
    const db = await createTestDatabase();
    const ds = await openDataSource({ database: db.target, poolSize: 2, statementTimeoutMs: 10_000 });
    try {
      expect(await tables(ds)).toEqual(expect.arrayContaining(['js_result', 'migrations', 'token']));
      const indexes = (await ds.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'js_result'`)).map((r: any) => r.indexname);
      expect(indexes).toEqual(expect.arrayContaining(['idx_js_result_worker_newest', 'idx_js_result_newest', 'idx_js_result_worker_id']));
      for (let i = 0; i < ds.migrations.length; i++) await ds.undoLastMigration({ transaction: 'each' });
      expect(await tables(ds)).toEqual(['migrations']);
      await ds.runMigrations({ transaction: 'each' });
      expect(await tables(ds)).toEqual(expect.arrayContaining(['js_result', 'migrations', 'token']));
      expect(await ds.showMigrations()).toBe(false);
    } finally {
      await ds.destroy();
      await db.drop();
    }
  });
});
