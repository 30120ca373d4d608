import { DataSource } from 'typeorm';
import { parseConditions } from '../js-result/conditions/condition.parser';
import { JsResult } from '../js-result/js-result.entity';
import { applyFilters } from '../js-result/js-result.statements';
import { IN_MEMORY, openDataSource } from '../database/data-source.factory';
import { Database } from '../database/database';
import { PreparedStatements } from '../database/prepared-statements';
import { JsResultRepository } from '../js-result/js-result.repository';
import { matchesFilters } from './result-filter.matcher';
import { readResultRows, type ResultRow } from './result-rows.reader';

/** Rows at every edge the predicates distinguish: null times, bounds, JSON null results, failures with results. */
const ROWS = `
  (1, 1, 'a', 'call', NULL, NULL, NULL, NULL),
  (2, 1, 'a', 'call', 100, NULL, NULL, NULL),
  (3, 1, 'a', 'cron', 100, 200, '1', NULL),
  (4, 2, 'b', 'cron', 150, 250, 'null', NULL),
  (5, 2, 'b', 'call', 200, 300, NULL, 'boom'),
  (6, 3, 'A', 'route', -5, 0, '{"x":1}', 'both'),
  (7, 3, 'a ', 'call', 9223372036854775807, -9223372036854775808, NULL, NULL),
  (9007199254740993, 9007199254740993, 'a', 'call', 100, 200, '"s"', NULL)`;

const CONDITION_LISTS: unknown[][] = [
  [],
  [{ id: 3 }],
  [{ id: 9007199254740993n }],
  [{ js_worker_id: 2 }],
  [{ js_worker_id: 9007199254740993n }],
  [{ js_worker_name: 'a' }],
  [{ js_worker_name: 'A' }],
  [{ js_worker_name: 'a' }, { js_worker_name: 'b' }],
  [{ run_type: 'cron' }],
  [{ start_time_from: 100 }],
  [{ start_time_to: 150 }],
  [{ start_time_from_to: [100, 150] }],
  [{ start_time_from_to: [200, 100] }],
  [{ finish_time_from: 0 }],
  [{ finish_time_to: 250 }],
  [{ finish_time_from_to: [-9223372036854775808n, 9223372036854775807n] }],
  [{ start_time_from: 9223372036854775807n }],
  ['is_success'],
  ['is_failure'],
  ['is_running'],
  ['is_success', 'is_failure'],
  ['is_running', { start_time_from: 0 }],
  [{ js_worker_name: 'b' }, 'is_success', { run_type: 'cron' }],
  ['is_failure', 'is_failure'],
];

describe(matchesFilters.name, () => {
  let dataSource: DataSource;
  let rows: ResultRow[];

  beforeAll(async () => {
    dataSource = await openDataSource({ database: { kind: 'embedded', dataDir: IN_MEMORY }, poolSize: 1, statementTimeoutMs: 10_000 });
    await dataSource.query(`INSERT INTO js_result (id, js_worker_id, js_worker_name, run_type, start_time, finish_time, result, error_message) VALUES ${ROWS}`);
    const ids: { id: string | number }[] = await dataSource.query('SELECT id FROM js_result');
    rows = await readResultRows(new JsResultRepository(new Database(dataSource, new PreparedStatements())), ids.map((r) => String(r.id)), { rowBytes: 1e9, batchBytes: 1e9 });
  });

  afterAll(() => dataSource.destroy());

  it.each(CONDITION_LISTS.map((conditions) => [JSON.stringify(conditions, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)), conditions]))(
    'decides %s exactly as the SQL predicates do',
    async (_name, conditions) => {
      const { filters } = parseConditions(conditions);
      const qb = applyFilters(dataSource.createQueryBuilder(JsResult, 'j').select('j.id', 'id'), filters, { alias: 'j' });
      const [text, values] = qb.getQueryAndParameters();
      const bySql = ((await dataSource.query(text, values)) as { id: string | number }[]).map((r) => String(r.id)).sort();
      const sut = rows.filter((row) => matchesFilters(filters, row)).map((row) => String(row.record.id)).sort();
      expect(sut).toEqual(bySql);
    },
  );

  it('is not trivially agreeing: the lists above select different rows', async () => {
    const selected = new Set(CONDITION_LISTS.map((c) => rows.filter((row) => matchesFilters(parseConditions(c).filters, row)).length));
    expect(selected.size).toBeGreaterThan(4);
  });
});
