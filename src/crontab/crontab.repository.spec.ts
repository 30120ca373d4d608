import type { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../test/support/test-database';
import { operatorAction } from '../database/audited-change';
import { openDataSource } from '../database/data-source.factory';
import { Database } from '../database/database';
import { PreparedStatements } from '../database/prepared-statements';
import { Crontab } from './crontab.entity';
import { CrontabRepository } from './crontab.repository';

/** On a real database of the backend under test: the statements the builder makes, and their audit entries. */
describe(CrontabRepository.name, () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let sut: CrontabRepository;
  const action = operatorAction('crontab_test');
  const kind = '{"server": {"js_worker": ["w", {"n": 9007199254740993}]}}';

  beforeAll(async () => {
    database = await createTestDatabase();
    const statements = new PreparedStatements();
    dataSource = await openDataSource({ database: database.target, poolSize: 2, statementTimeoutMs: 5_000 }, statements, [Crontab]);
    sut = new CrontabRepository(new Database(dataSource, statements));
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  beforeEach(async () => {
    await dataSource.query('DELETE FROM crontab');
    await dataSource.query('DELETE FROM audit_log');
  });

  it('inserts within the most jobs, lists with cron_type as text, finds by name', async () => {
    const id = await sut.insert('a', '* * * * * *', kind, 100, 1, action);
    expect(id).toEqual(expect.any(Number));
    expect(await sut.insert('b', '* * * * * *', kind, 100, 1, action)).toBeUndefined();
    const [listed] = await sut.list();
    expect(listed).toMatchObject({ name: 'a', enable: true, cron_expression: '* * * * * *', cron_type: kind, last_run_time: null });
    expect(Number(listed.id)).toBe(id);
    expect(await sut.find('a')).toMatchObject({ name: 'a', enable: true, cron_type: { server: { js_worker: ['w', expect.anything()] } } });
    expect(await sut.find('b')).toBeUndefined();
  });

  it('updates, enables from now only when it was disabled, and deletes', async () => {
    const id = (await sut.insert('a', '* * * * * *', kind, 100, 5, action))!;
    expect(await sut.update('a', '0 * * * * *', '{"server": {"js_worker": ["v"]}}', 200, action)).toBe(id);
    expect(await sut.update('nobody', '0 * * * * *', kind, 200, action)).toBeUndefined();
    expect(await sut.setEnable('a', true, 300, action)).toEqual({ id, enable: true });
    expect((await sut.scheduled())[0]).toMatchObject({ id, cronExpression: '0 * * * * *', scheduleFrom: 200 });
    expect(await sut.setEnable('a', false, 400, action)).toEqual({ id, enable: false });
    expect(await sut.setEnable('a', true, 500, action)).toEqual({ id, enable: true });
    expect(await sut.scheduled([id])).toEqual([{ id, name: 'a', enable: true, cronExpression: '0 * * * * *', lastRunTime: null, scheduleFrom: 500 }]);
    expect(await sut.delete('a', action)).toBe(true);
    expect(await sut.delete('a', action)).toBe(false);
    expect(await sut.scheduled()).toEqual([]);
    expect(Number((await dataSource.query('SELECT count(*) AS n FROM audit_log'))[0].n)).toBe(6);
  });
});
