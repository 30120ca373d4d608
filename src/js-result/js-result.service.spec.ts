import { DEFAULT_RESPONSE_LIMITS } from '../config/app.config';
import { operatorAction } from '../database/audited-change';
import type { DataSource } from 'typeorm';
import { overlapCounting } from '../../test/support/overlap-counting';
import { createTestDatabase, type TestDatabase } from '../../test/support/test-database';
import { DomainError, DomainErrorCode } from '../common/domain.error';
import { JsonText } from '../common/json-text';
import { parseJson as parseExact } from '../json-rpc/json-rpc.codec';
import { ReplyBudget } from '../common/reply-budget';
import { openDataSource } from '../database/data-source.factory';
import { Database } from '../database/database';
import { PreparedStatements } from '../database/prepared-statements';
import type { Statement } from '../database/statement';
import type { Auth } from '../token/auth';
import { readTokenLimits } from '../token/token-limit';
import { parseConditions } from './conditions/condition.parser';
import { JsResult } from './js-result.entity';
import { parsePageQuery } from './js-result.params';
import type { JsResultRecord } from './js-result.record';
import { JsResultRepository } from './js-result.repository';
import { type JsResultRecords, JsResultService } from './js-result.service';
import { ServerSecretRepository } from '../nodeget-server/server-secret.repository';

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

/** The database of the service below: its statements go through `dataSource.query`, which some tests wrap to watch them. */
class WatchedDatabase extends Database {
  override rows<T>({ text, values }: Statement): Promise<T[]> {
    return this.dataSource.query<T[]>(text, values);
  }
}

function serviceOver(dataSource: DataSource, config: ConstructorParameters<typeof JsResultService>[2], statements = new PreparedStatements()): JsResultService {
  const database = new WatchedDatabase(dataSource, statements);
  return new JsResultService(new JsResultRepository(database), new ServerSecretRepository(database), config);
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
    sut = serviceOver(dataSource, { workerNamesCacheTtlMs: 0, responses: DEFAULT_RESPONSE_LIMITS }, statements);
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
      const slow = overlapCounting(dataSource);
      const service = serviceOver(slow.dataSource, { workerNamesCacheTtlMs: 0, responses: { ...DEFAULT_RESPONSE_LIMITS, largeReadMaxConcurrent } });
      // Each may answer 1 MiB: the memory budget (32 MiB) would admit all four at once.
      const reads = await Promise.all(
        Array.from({ length: 4 }, () => records(service.query(parseConditions([{ limit }]), SUPER, undefined, new ReplyBudget(MiB, MiB)))),
      );
      for (const rows of reads) expect(rows).toHaveLength(4);
      return slow.most();
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

  describe('holds short reads and pages to the reply budget before their rows come', () => {
    const LIMIT = 150_000;
    /** What the database sent this process, in bytes of text, over every statement a read ran. */
    let received: number;
    let budgeted: JsResultService;
    const budget = () => new ReplyBudget(LIMIT, LIMIT);
    const textBytes = (value: unknown): number =>
      typeof value === 'string' ? Buffer.byteLength(value) : Array.isArray(value) ? value.reduce((sum: number, v) => sum + textBytes(v), 0) : value !== null && typeof value === 'object' ? textBytes(Object.values(value)) : 0;

    beforeEach(async () => {
      received = 0;
      const recording = Object.create(dataSource, {
        query: {
          value: async (...args: Parameters<DataSource['query']>) => {
            const rows: unknown = await dataSource.query(...args);
            received += textBytes(rows);
            return rows;
          },
        },
      }) as DataSource;
      budgeted = serviceOver(recording, { workerNamesCacheTtlMs: 0, responses: DEFAULT_RESPONSE_LIMITS });
      // Four results of 100,000 bytes of JSON text, which compress to almost nothing where they are stored.
      await dataSource.query(
        `INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time, param, result)
         SELECT 2, 'huge', 'call', 2000 + g, '{"n": 12345678901234567890, "d": 1.50}', to_jsonb(repeat('x', 99998)) FROM generate_series(1, 4) g`,
      );
    });

    // As jsonb writes it: keys ordered, numbers as they were given.
    const EXACT_PARAM = '"param":{"d": 1.50, "n": 12345678901234567890}';
    const huge = (extra: unknown[] = []) => parseConditions([{ js_worker_name: 'huge' }, ...extra]);
    const refusal = (bytes: number) =>
      new DomainError(
        DomainErrorCode.ResponseTooLarge,
        `the answer would be ${bytes} bytes, over the MAX_CALL_RESPONSE_BYTES limit of ${LIMIT} bytes per call; ask for less: a smaller limit, fewer fields, fewer calls per batch, or js-result_page`,
      );

    it('refuses a query over the budget with the exact size of its records, having received less than the budget', async () => {
      const whole = ((await sut.query(huge(), SUPER)) as JsonText).text;
      expect(Buffer.byteLength(whole)).toBeGreaterThan(400_000);
      await expect(budgeted.query(huge(), SUPER, undefined, budget())).rejects.toEqual(refusal(Buffer.byteLength(whole)));
      expect(received).toBeLessThan(LIMIT);
    });

    it('answers a query that fits, though its values are over their shares, with the same records, exact', async () => {
      const one = huge([{ limit: 1 }]);
      const answer = (await budgeted.query(one, SUPER, undefined, budget())) as JsonText;
      expect(parseExact(answer.text)).toEqual(parseExact(((await sut.query(one, SUPER)) as JsonText).text));
      expect(answer.text.includes(EXACT_PARAM)).toBe(true);
      expect(received).toBeLessThan(2 * LIMIT);
    });

    it('refuses a page over the budget the same way, and walks pages that fit one by one, with exact cursors', async () => {
      const selection = parsePageQuery({ condition: [{ js_worker_name: 'huge' }] });
      const pageOf = (cursor?: string) => ({ selection, cursor, pageSize: 3 });
      const threeRecords = Buffer.byteLength(((await sut.query(huge([{ limit: 3 }]), SUPER)) as JsonText).text);
      await expect(budgeted.page(pageOf(), SUPER, budget())).rejects.toEqual(refusal(threeRecords));
      expect(received).toBeLessThan(LIMIT);
      const seen: unknown[] = [];
      let cursor: string | undefined;
      do {
        received = 0;
        const answer = (await budgeted.page({ selection, cursor, pageSize: 1 }, SUPER, budget())) as JsonText;
        const page = parseExact(answer.text) as { items: { id: unknown }[]; next_cursor: string | null };
        expect(answer.text.includes(EXACT_PARAM)).toBe(true);
        expect(received).toBeLessThan(2 * LIMIT);
        seen.push(...page.items.map((item) => item.id));
        cursor = page.next_cursor ?? undefined;
      } while (cursor !== undefined);
      const ids = ((await records(sut.query(huge(), SUPER))) as JsResultRecord[]).map((r) => r.id);
      expect(seen).toEqual(ids);
    });
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
