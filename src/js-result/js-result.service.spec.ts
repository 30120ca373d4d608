import { DEFAULT_RESPONSE_LIMITS } from '../config/app.config';
import { operatorAction } from '../audit/audit.statements';
import type { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../test/support/test-database';
import { DomainError, DomainErrorCode } from '../common/domain.error';
import { JsonText } from '../common/json-text';
import { parseJson as parseExact } from '../json-rpc/json-rpc.codec';
import { ReplyBudget } from '../common/reply-budget';
import { openDataSource } from '../database/data-source.factory';
import { PreparedStatements } from '../database/prepared-statements';
import type { Auth } from '../token/auth';
import { readTokenLimits } from '../token/token-limit';
import { parseConditions } from './conditions/condition.parser';
import { JsResult } from './js-result.entity';
import type { JsResultRecord } from './js-result.record';
import { type JsResultRecords, JsResultService } from './js-result.service';

const MiB = 1024 * 1024;

/** Deletes here are recorded as the operator's. */
const AUDIT = operatorAction('js-result_delete');

const limited = (raw: unknown): Auth => ({ kind: 'limited', tokenId: 2, tokenKey: 'k2', limits: readTokenLimits(raw) });
const SUPER: Auth = { kind: 'super', tokenId: 1, tokenKey: 'k1' };

/** Reads answer JSON text (written here for short reads, by the database for large ones); these tests look at the records. */
async function records(reply: Promise<JsResultRecords>): Promise<JsResultRecord[]> {
  const answer = await reply;
  return (answer instanceof JsonText ? JSON.parse(answer.text) : answer) as JsResultRecord[];
}

/** On a real database of the backend under test: the service's own rules, without HTTP around them. */
describe(JsResultService.name, () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let sut: JsResultService;

  beforeAll(async () => {
    database = await createTestDatabase();
    const statements = new PreparedStatements();
    dataSource = await openDataSource({ database: database.target, poolSize: 2, statementTimeoutMs: 5_000 }, statements);
    sut = new JsResultService(dataSource, { workerNamesCacheTtlMs: 0, responses: DEFAULT_RESPONSE_LIMITS }, statements);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  beforeEach(async () => {
    await dataSource.query('DELETE FROM js_result');
    await dataSource.getRepository(JsResult).save(
      ['alpha', 'alpha', 'beta', 'alphabet'].map((name, i) =>
        dataSource.getRepository(JsResult).create({ jsWorkerId: 1, jsWorkerName: name, runType: 'call', startTime: 1000 + i, result: i }),
      ),
    );
  });

  it('refuses the first named worker the token may not read, naming it and the action', async () => {
    const auth = limited([{ scopes: ['global'], permissions: [{ js_result: { read: 'alpha' } }] }]);
    const selection = parseConditions([{ js_worker_name: 'alpha' }, { js_worker_name: 'beta' }]);
    await expect(sut.query(selection, auth)).rejects.toEqual(
      new DomainError(DomainErrorCode.PermissionDenied, "Permission denied for js_result on worker 'beta', action: Read"),
    );
  });

  it('narrows an unnamed query to exact names and prefixes the token reaches', async () => {
    const auth = limited([{ scopes: [{ js_worker: 'alpha*' }], permissions: [{ js_result: { read: 'alphab*' } }, { js_result: { read: 'alpha' } }] }]);
    const rows = await records(sut.query(parseConditions([]), auth));
    expect(rows.map((r) => r.js_worker_name)).toEqual(['alphabet', 'alpha', 'alpha']);
  });

  it('answers a read that reaches no worker with no records', async () => {
    const noSuchWorkers = limited([{ scopes: ['global'], permissions: [{ js_result: { read: 'gamma*' } }] }]);
    const nothing = limited([{ scopes: ['global'], permissions: [] }]);
    expect(await sut.query(parseConditions([]), noSuchWorkers)).toEqual([]);
    expect(await sut.query(parseConditions([]), nothing)).toEqual([]);
  });

  it('runs at most LARGE_READ_MAX_CONCURRENT reads above the default cap at once, and short reads beside them', async () => {
    /** The most statements the service had running at once, over a data source that holds each a little. */
    async function mostAtOnce(largeReadMaxConcurrent: number, limit: number): Promise<number> {
      let running = 0;
      let most = 0;
      const slow = Object.create(dataSource, {
        query: {
          value: async (...args: Parameters<DataSource['query']>) => {
            most = Math.max(most, ++running);
            try {
              await new Promise((resolve) => setTimeout(resolve, 30));
              return await dataSource.query(...args);
            } finally {
              running--;
            }
          },
        },
      }) as DataSource;
      const service = new JsResultService(slow, { workerNamesCacheTtlMs: 0, responses: { ...DEFAULT_RESPONSE_LIMITS, largeReadMaxConcurrent } }, new PreparedStatements());
      // Each may answer 1 MiB: the memory budget (32 MiB) would admit all four at once.
      const reads = await Promise.all(
        Array.from({ length: 4 }, () => records(service.query(parseConditions([{ limit }]), SUPER, undefined, new ReplyBudget(MiB, MiB)))),
      );
      for (const rows of reads) expect(rows).toHaveLength(4);
      return most;
    }
    expect(await mostAtOnce(1, 1001)).toBe(1);
    expect(await mostAtOnce(3, 1001)).toBe(3);
    expect(await mostAtOnce(1, 1000)).toBe(4);
  });

  it('answers short reads (written here from the rows) and reads above the default cap (assembled by the database) with the same records', async () => {
    await dataSource.query(
      `INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time, finish_time, param, result, error_message)
       VALUES (9007199254740993, 'wide "ünïcode" \\ name', 'cron', 9007199254740995, NULL, '{"n": 1.50, "big": 12345678901234567890, "s": "\\u00e9"}', '[1, null, {"a": []}]', 'line1\nline2')`,
    );
    for (const fields of [undefined, ['result', 'id'], ['js_worker_name', 'param', 'finish_time', 'error_message']] as const) {
      const short = await sut.query(parseConditions([{ limit: 1000 }]), SUPER, fields);
      const large = await sut.query(parseConditions([{ limit: 1001 }]), SUPER, fields);
      expect(short).toBeInstanceOf(JsonText);
      expect(large).toBeInstanceOf(JsonText);
      expect(parseExact((short as JsonText).text)).toEqual(parseExact((large as JsonText).text));
    }
    const all = parseExact((await sut.query(parseConditions([{ limit: 1000 }]), SUPER) as JsonText).text) as Record<string, unknown>[];
    expect(all.map((r) => r.js_worker_name)).toEqual(['wide "ünïcode" \\ name', 'alphabet', 'beta', 'alpha', 'alpha']);
    // Integers past 2^53 are written exactly, in the record's columns and inside its JSON alike.
    expect(all[0]).toMatchObject({ js_worker_id: 9007199254740993n, start_time: 9007199254740995n, param: { big: 12345678901234567890n }, error_message: 'line1\nline2' });
  });

  it('answers a token that reaches nothing without deleting anything', async () => {
    const auth = limited([{ scopes: ['global'], permissions: [] }]);
    expect(await sut.delete(parseConditions(['is_success']), auth, AUDIT)).toEqual({ success: true, deleted: 0, condition_count: 1 });
    expect(await dataSource.getRepository(JsResult).count()).toBe(4);
  });

  it('deletes the newest N chosen first, then reports how many went', async () => {
    expect(await sut.delete(parseConditions([{ js_worker_name: 'alpha' }, 'last']), SUPER, AUDIT)).toEqual({
      success: true,
      deleted: 1,
      condition_count: 2,
    });
    const left = await records(sut.query(parseConditions([{ js_worker_name: 'alpha' }]), SUPER));
    expect(left.map((r) => r.start_time)).toEqual([1000]);
  });
});
