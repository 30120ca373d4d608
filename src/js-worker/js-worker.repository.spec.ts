import type { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../test/support/test-database';
import { operatorAction } from '../database/audited-change';
import { openDataSource } from '../database/data-source.factory';
import { Database } from '../database/database';
import { PreparedStatements } from '../database/prepared-statements';
import { JsWorker } from './js-worker.entity';
import { JsWorkerRepository } from './js-worker.repository';

/** On a real database of the backend under test: the statements the builder makes, and their audit entries. */
describe(JsWorkerRepository.name, () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let sut: JsWorkerRepository;
  const action = operatorAction('js-worker_test');

  const worker = (name: string, routeName: string | null = null) => ({
    name,
    description: 'd',
    routeName,
    runtimeCleanTime: null,
    jsScript: 'export default {}',
    env: { big: 9007199254740993n, nested: { a: [1, 'x'] } },
    maxRunTime: 1_000,
    maxStackSize: null,
    maxHeapSize: null,
  });

  beforeAll(async () => {
    database = await createTestDatabase();
    const statements = new PreparedStatements();
    dataSource = await openDataSource({ database: database.target, poolSize: 2, statementTimeoutMs: 5_000 }, statements, [JsWorker]);
    sut = new JsWorkerRepository(new Database(dataSource, statements));
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  beforeEach(async () => {
    await dataSource.query('DELETE FROM js_worker');
    await dataSource.query('DELETE FROM audit_log');
  });

  it('inserts a worker with its env as exact JSON text, and audits it', async () => {
    const created = await sut.insert(worker('b'), 1234, action);
    expect(created).toMatchObject({ name: 'b', description: 'd', maxRunTime: 1_000, maxHeapSize: null, createdAt: 1234, updatedAt: 1234 });
    const [{ env }] = await dataSource.query(`SELECT env::text AS env FROM js_worker WHERE name = 'b'`);
    expect(env).toBe('{"big": 9007199254740993, "nested": {"a": [1, "x"]}}');
    expect(await dataSource.query('SELECT method, affected FROM audit_log')).toEqual([{ method: 'js-worker_test', affected: expect.anything() }]);
  });

  it('reads by name and by route name, every column as the insert returned it', async () => {
    const created = await sut.insert(worker('a', 'r.a'), 1, action);
    expect(await sut.findByName('a')).toEqual(created);
    expect(await sut.findByRouteName('r.a')).toEqual(created);
    expect(await sut.findByName('nobody')).toBeUndefined();
    expect(await sut.findByRouteName('nobody')).toBeUndefined();
  });

  it('updates only the given fields, and answers undefined for a missing worker', async () => {
    await sut.insert(worker('a'), 1, action);
    const updated = await sut.update('a', { description: undefined, env: { x: 1 }, maxRunTime: null, updatedAt: 5 }, action);
    expect(updated).toMatchObject({ name: 'a', description: 'd', env: { x: 1 }, maxRunTime: null, createdAt: 1, updatedAt: 5 });
    expect(await sut.update('missing', { updatedAt: 6 }, action)).toBeUndefined();
  });

  it('deletes by name and lists names in byte order', async () => {
    for (const name of ['b', 'B', 'a']) await sut.insert(worker(name), 1, action);
    expect(await sut.names()).toEqual(['B', 'a', 'b']);
    expect(await sut.delete('a', action)).toBe(true);
    expect(await sut.delete('a', action)).toBe(false);
    expect(await sut.names()).toEqual(['B', 'b']);
  });

  it('hands out instance numbers and locks them', async () => {
    const first = await sut.nextInstanceId();
    expect(await sut.nextInstanceId()).toBe(first + 1);
    await sut.lockInstance(1, first);
    await sut.unlockInstance(1, first);
  });
});
