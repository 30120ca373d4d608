import type { DataSource } from 'typeorm';
import { overlapCounting } from '../../test/support/overlap-counting';
import { createTestDatabase, type TestDatabase } from '../../test/support/test-database';
import { JsonText } from '../common/json-text';
import { ReplyBudget } from '../common/reply-budget';
import { DEFAULT_RESPONSE_LIMITS } from '../config/app.config';
import { openDataSource } from '../database/data-source.factory';
import { Database } from '../database/database';
import { PreparedStatements } from '../database/prepared-statements';
import type { Statement } from '../database/statement';
import { ServerSecretRepository } from '../nodeget-server/server-secret.repository';
import type { Auth } from '../token/auth';
import { parseConditions } from './conditions/condition.parser';
import { JsResult } from './js-result.entity';
import { JsResultRepository } from './js-result.repository';
import { JsResultService } from './js-result.service';

const MiB = 1024 * 1024;
const SUPER: Auth = { kind: 'super', tokenId: 1, tokenKey: 'k1' };

/** Statements through `dataSource.query`, which the test wraps to count those running at once. */
class WatchedDatabase extends Database {
  override rows<T>({ text, values }: Statement): Promise<T[]> {
    return this.dataSource.query<T[]>(text, values);
  }
}

/** The calls of one request (a batch) share its ReplyBudget: their large reads take one slot at a time between them. */
describe('JsResultService: large reads of one request', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await openDataSource({ database: database.target, poolSize: 4, statementTimeoutMs: 5_000 }, new PreparedStatements());
    await dataSource.getRepository(JsResult).save(
      [1, 2, 3].map((i) => dataSource.getRepository(JsResult).create({ jsWorkerId: 1, jsWorkerName: 'alpha', runType: 'call', startTime: 1000 + i, result: i })),
    );
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  /** The most statements running at once while four reads of `limit` run, each its own request or all of one. */
  async function mostAtOnce(limit: number, oneRequest: boolean): Promise<number> {
    const slow = overlapCounting(dataSource);
    const db = new WatchedDatabase(slow.dataSource, new PreparedStatements());
    // Three slots, and a memory budget that admits all four: only the request's own bound can keep them apart.
    const service = new JsResultService(new JsResultRepository(db), new ServerSecretRepository(db), {
      workerNamesCacheTtlMs: 0,
      responses: { ...DEFAULT_RESPONSE_LIMITS, largeReadMaxConcurrent: 3 },
    });
    const batch = new ReplyBudget(4 * MiB, MiB);
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => service.query(parseConditions([{ limit }]), SUPER, undefined, oneRequest ? batch : new ReplyBudget(MiB, MiB))),
    );
    for (const answer of answers) expect(JSON.parse((answer as JsonText).text)).toHaveLength(3);
    return slow.most();
  }

  it('runs the large reads of one request one at a time, and those of separate requests side by side', async () => {
    expect(await mostAtOnce(1001, true)).toBe(1);
    expect(await mostAtOnce(1001, false)).toBe(3);
    // Short reads of one request are not held back.
    expect(await mostAtOnce(1000, true)).toBe(4);
  });
});
