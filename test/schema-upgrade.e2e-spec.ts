import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { LosslessNumber, parse, stringify } from 'lossless-json';
import { DataSource } from 'typeorm';
import { createApp } from '../src/app.factory';
import { dataSourceOf } from '../src/testing';
import { openDataSource } from '../src/database/data-source.factory';
import { migrations } from '../src/database/migrations';
import { formatToken, TokenService } from '../src/token/token.service';
import { createSnapshotDatabase, describeSchema, publicTables, type SnapshotFixture, snapshotFixture } from './support/snapshot';
import { call, queryParams, rpc, testConfig } from './support/test-app';
import { backendName, createTestDatabase, type TestDatabase } from './support/test-database';

/**
 * A database created and used by v0.1.0 (the last release on Nest 11 /
 * TypeORM 0.3; see the header of test/fixtures/schema-v0.1.0.sql for how it
 * was made) upgrades in place: the current app starts on it, applies nothing
 * again, ends with the schema its own migrations make, serves the old rows as
 * the old server did, to the old tokens, and writes new ones.
 *
 * The app is started with createApp rather than startTestApp: the latter rolls
 * the super token, and the point is that the snapshot's own super token still works.
 */
const SNAPSHOT = 'schema-v0.1.0';

const MIGRATION_NAMES = migrations.map((M) => new M().name as string);
/** TypeORM takes a migration's timestamp from the last 13 digits of its name. */
const timestampOf = (name: string) => name.slice(-13);

/** One JSON-RPC call, its reply parsed losslessly so 64-bit integers compare exactly. */
async function losslessCall(app: NestFastifyApplication, method: string, params: unknown): Promise<any> {
  const reply = await rpc(app, stringify(call(method, params)) as string);
  expect(reply.status).toBe(200);
  return parse(reply.text);
}

const n = (value: unknown) => Number(String(value));

/**
 * A worker as v0.1.0 read it, in today's names: NodeGet's `create_at` /
 * `update_at` (issue 23), and NodeGet's route name and cleanup time, which an
 * old worker has not got.
 */
function inTodaysNames(method: string, result: any): any {
  if (method !== 'js-worker_read') return result;
  const { created_at, updated_at, ...rest } = result;
  return { ...rest, route_name: null, runtime_clean_time: null, create_at: created_at, update_at: updated_at };
}

describe(`a v0.1.0 database upgrades in place (${backendName})`, () => {
  let fixture: SnapshotFixture;
  let database: TestDatabase;
  let app: NestFastifyApplication | undefined;
  let ds: DataSource;
  let reference: Record<string, unknown[]>;
  let tokenOf: Record<string, string>;

  beforeAll(async () => {
    fixture = await snapshotFixture(SNAPSHOT);
    tokenOf = { super: fixture.superToken, limited: fixture.limitedToken, account: fixture.accountLogin };
    // What the current migrations make on an empty database of the same backend.
    const fresh = await createTestDatabase();
    const freshDs = await openDataSource({ database: fresh.target, poolSize: 2, statementTimeoutMs: 10_000 });
    try {
      reference = await describeSchema(freshDs);
    } finally {
      await freshDs.destroy();
      await fresh.drop();
    }
    database = await createSnapshotDatabase(SNAPSHOT);
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  it('the current app starts on it, and applies no migration again', async () => {
    // Pending migrations run at start-up; one applied again would fail here (its tables exist).
    app = await createApp(testConfig(database.target));
    ds = dataSourceOf(app);

    const applied: { id: unknown; timestamp: unknown; name: string }[] = await ds.query(
      'SELECT id, "timestamp", name FROM migrations ORDER BY id',
    );
    expect(applied.map((m) => ({ id: n(m.id), timestamp: String(m.timestamp), name: m.name }))).toEqual(
      MIGRATION_NAMES.map((name, i) => ({ id: i + 1, timestamp: timestampOf(name), name })),
    );
    expect(ds.migrations.map((m) => m.name)).toEqual(MIGRATION_NAMES);
    expect(await ds.showMigrations()).toBe(false);
  });

  it('its schema is exactly what the current migrations make on an empty database', async () => {
    // Not a comparison of two empty descriptions: the catalog queries see the migrations' objects.
    expect(reference.columns.length).toBeGreaterThan(30);
    expect(reference.indexes.length).toBeGreaterThan(10);
    // js_result_console_gc, the audit log's append-only guard, the token change announcement,
    // the finished-run announcement (one function, an INSERT and an UPDATE trigger),
    // the crontab change announcement (one function, two triggers);
    // and login_throttle_admit, the one function no trigger calls.
    expect(reference.triggers).toHaveLength(7);
    expect(reference.functions).toHaveLength(6);
    // js_result_retention's identity is the seventh; crontab's and crontab_result's the eighth and ninth.
    expect(reference.sequences).toHaveLength(9);
    expect(await describeSchema(ds)).toEqual(reference);
  });

  it('keeps every old row', async () => {
    const count = async (table: string) => n((await ds.query(`SELECT count(*) AS c FROM ${table}`))[0].c);
    expect(await count('js_result')).toBe(13);
    expect(await count('js_result_console')).toBe(2);
    expect(await count('js_worker')).toBe(2);
    expect(await count('token')).toBe(3);
  });

  it("answers the old tokens over JSON-RPC as the old server did (a worker in NodeGet's field names)", async () => {
    expect(fixture.calls.length).toBeGreaterThan(10);
    for (const recorded of fixture.calls) {
      const reply = await losslessCall(app!, recorded.method, { token: tokenOf[recorded.token], ...recorded.params });
      const what = `${recorded.token} ${recorded.method} ${stringify(recorded.params)}`;
      if (recorded.error) {
        expect({ what, code: reply.error?.code }).toEqual({ what, code: recorded.error.code });
      } else {
        expect({ what, error: reply.error, result: reply.result }).toEqual({ what, error: undefined, result: inTodaysNames(recorded.method, recorded.result) });
      }
    }
  });

  it('the limited token reads only within its scopes', async () => {
    const { limitedToken } = fixture;
    const mine = await losslessCall(app!, 'js-result_query', queryParams(limitedToken, []));
    const names = new Set((mine.result as { js_worker_name: string }[]).map((r) => r.js_worker_name));
    expect([...names].sort()).toEqual(['demo_big', 'demo_hello', 'demo_other', 'demo_worker']);

    const denied = await losslessCall(app!, 'js-result_query', queryParams(limitedToken, [{ js_worker_name: 'prod_api' }]));
    expect(n(denied.error?.code)).toBe(102);
    // No delete permission: refused when the worker is named, narrowed to nothing when it is not.
    const noDelete = await losslessCall(app!, 'js-result_delete', queryParams(limitedToken, [{ js_worker_name: 'demo_worker' }]));
    expect(n(noDelete.error?.code)).toBe(102);
    const narrowed = await losslessCall(app!, 'js-result_delete', queryParams(limitedToken, [{ id: 1 }]));
    expect(n(narrowed.result?.deleted)).toBe(0);
    expect(await ds.query('SELECT id FROM js_result WHERE id = 1')).toHaveLength(1);
    expect((await losslessCall(app!, 'js-worker_list_all_js_worker', { token: limitedToken })).result).toEqual(['demo_hello']);
  });

  it('writes new rows after the old ones: results, workers, tokens', async () => {
    const { superToken, limitedToken } = fixture;
    // js-worker_run writes a js_result row: its id continues the old sequence.
    const started = await losslessCall(app!, 'js-worker_run', { token: superToken, js_script_name: 'demo_hello', params: { who: 'v0.2' } });
    expect(started.error).toBeUndefined();
    const runId = n(started.result.id);
    expect(runId).toBe(14);
    const deadline = Date.now() + 20_000;
    let row: any;
    for (;;) {
      [row] = (await losslessCall(app!, 'js-result_query', queryParams(limitedToken, [{ id: runId }]))).result;
      if (row?.finish_time !== null || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(row).toMatchObject({ js_worker_name: 'demo_hello', run_type: 'call', error_message: null });
    expect(row.result).toEqual({ greeting: 'hi v0.2', region: 'eu', run_type: 'call' });
    const console_ = await losslessCall(app!, 'js-worker_run_console', { token: superToken, id: runId });
    expect(console_.result).toMatchObject({ finished: true, lines: ['[log] hello v0.2'] });

    const created = await losslessCall(app!, 'js-worker_create', {
      token: superToken,
      name: 'demo_new',
      js_script_base64: Buffer.from('export default { onCall() { return 1 } }').toString('base64'),
    });
    expect(n(created.result?.id)).toBe(3);

    const tokens = app!.get(TokenService);
    const issued = await tokens.create({ limits: [{ scopes: ['global'], permissions: [{ js_result: { read: '*' } }] }] });
    expect(issued.id).toBe(4);
    const read = await losslessCall(app!, 'js-result_query', queryParams(formatToken(issued), [{ id: runId }]));
    expect(n(read.result?.[0]?.id)).toBe(runId);

    // Deleting an old row still takes its console output with it (the old trigger).
    const [oldRun] = fixture.runIds.map(n);
    const deleted = await losslessCall(app!, 'js-result_delete', queryParams(superToken, [{ id: oldRun }]));
    expect(deleted.result).toEqual({ success: true, deleted: new LosslessNumber('1'), condition_count: new LosslessNumber('1') });
    expect(await ds.query('SELECT js_result_id FROM js_result_console WHERE js_result_id = $1', [oldRun])).toEqual([]);
  });

  it('then reverts its migrations down to nothing and applies them again', async () => {
    await app!.close();
    app = undefined;
    const again = await openDataSource({ database: database.target, poolSize: 2, statementTimeoutMs: 10_000 });
    try {
      expect(await again.showMigrations()).toBe(false);
      for (let i = 0; i < again.migrations.length; i++) await again.undoLastMigration({ transaction: 'each' });
      expect(await publicTables(again)).toEqual(['migrations']);
      expect(await again.query('SELECT name FROM migrations')).toEqual([]);
      await again.runMigrations({ transaction: 'each' });
      expect(await again.showMigrations()).toBe(false);
      expect((await again.query('SELECT name FROM migrations ORDER BY id')).map((m: { name: string }) => m.name)).toEqual(MIGRATION_NAMES);
      expect(await describeSchema(again)).toEqual(reference);
    } finally {
      await again.destroy();
    }
  });
});
