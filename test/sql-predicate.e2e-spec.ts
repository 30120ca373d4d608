import { ServerSecretRepository } from '../src/nodeget-server/server-secret.repository';
import { DEFAULT_RESPONSE_LIMITS } from '../src/config/app.config';
import { operatorAction } from '../src/database/audited-change';
import fc from 'fast-check';
import type { DataSource } from 'typeorm';
import { JsonText } from '../src/common/json-text';
import { DomainErrorCode } from '../src/common/domain.error';
import { openDataSource } from '../src/database/data-source.factory';
import { PreparedStatements } from '../src/database/prepared-statements';
import { parseConditions } from '../src/js-result/conditions/condition.parser';
import { DEFAULT_QUERY_CAP } from '../src/js-result/conditions/condition.types';
import { authoriseWorkers, grantsNothing } from '../src/js-result/js-result.access';
import { JsResult } from '../src/js-result/js-result.entity';
import { type JsResultRecord, toRecord } from '../src/js-result/js-result.record';
import { JsResultService } from '../src/js-result/js-result.service';
import { JsResultRepository } from '../src/js-result/js-result.repository';
import { distinctNames, type Statement } from '../src/js-result/js-result.statements';
import { Database } from '../src/database/database';
import { RowsStatements } from './support/rows-statements';
import type { Auth } from '../src/token/auth';
import { readTokenLimits } from '../src/token/token-limit';
import { T0, toModelRow } from './support/fixtures';
import { type ModelLimit, modelSelect, type ModelRow } from './support/js-result.model';
import { createTestDatabase, backendName, type TestDatabase } from './support/test-database';

/** Deletes here are recorded as the operator's. */
const AUDIT = operatorAction('js-result_delete');

type Model = typeof modelSelect;

// A small alphabet with LIKE metacharacters and `*`, so prefixes collide often.
const name = fc.string({ unit: fc.constantFrom('a', 'b', '_', '%', '*', '\\'), minLength: 1, maxLength: 3 });
// Prefix patterns often equal a whole worker name, or its first character: the edges of a prefix range.
const pattern = fc.oneof(name, name.map((n) => `${n}*`), name.map((n) => `${n[0]}*`), fc.constant('*'));
const scope = fc.oneof(fc.constant<unknown>('global'), pattern.map((p) => ({ js_worker: p })), fc.constant({ agent_uuid: '*' }));
const permission = fc.oneof(
  pattern.map((p) => ({ js_result: { read: p } })),
  pattern.map((p) => ({ js_result: { delete: p } })),
  fc.constant({ kv: { read: '*' } }),
);
// Mostly limited tokens (an empty one proves little beyond "nothing"); sometimes the super token.
const limits = fc.option(
  fc.array(
    fc.record({ scopes: fc.array(scope, { minLength: 1, maxLength: 3 }), permissions: fc.array(permission, { minLength: 1, maxLength: 3 }) }),
    { minLength: 1, maxLength: 3 },
  ),
  { nil: undefined, freq: 3 },
);
// Few distinct times, so bounds often fall exactly on a row's time (where an off-by-one shows) and ids break ties.
const time = fc.integer({ min: 0, max: 5 }).map((s) => T0 + s);
const row = fc.record({
  jsWorkerName: name,
  startTime: fc.option(time, { nil: null }),
  finishTime: fc.option(time, { nil: null }),
  state: fc.constantFrom('success', 'failure', 'running'),
});
const condition = fc.oneof(
  fc.constantFrom<unknown>('is_success', 'is_failure', 'is_running', 'last'),
  fc.integer({ min: 0, max: 6 }).map((n) => ({ limit: n })),
  time.map((t) => ({ start_time_from: t })),
  time.map((t) => ({ start_time_to: t })),
  time.map((t) => ({ finish_time_from: t })),
  time.map((t) => ({ finish_time_to: t })),
);
const namedCondition = name.map((n) => ({ js_worker_name: n }));
const conditions = fc.array(fc.oneof({ weight: 4, arbitrary: condition }, { weight: 1, arbitrary: namedCondition }), { maxLength: 4 });
const table = fc.array(row, { maxLength: 25 });
type StoredRow = typeof row extends fc.Arbitrary<infer R> ? R : never;

/**
 * The model with one bound off by one (`start_time_from` as `>`): a
 * statement with that mistake must not pass the property, so the property
 * must tell them apart.
 */
const modelWithStrictFrom: Model = (rows, conds, lims, action) =>
  modelSelect(
    rows,
    conds.map((c) => (typeof c === 'object' && c !== null && 'start_time_from' in c ? { start_time_from: (c as { start_time_from: number }).start_time_from + 1 } : c)),
    lims,
    action,
  );

/**
 * Property: for random tokens, worker names and conditions, the rows the
 * statements return (and delete) are exactly the rows the in-memory model of
 * the contract allows, in the same order: the service's JSON, the plain-rows
 * form of every read scope (all, names resolved inside the statement, names
 * known beforehand), and the deletes.
 */
describe(`statements match the contract model (${backendName})`, () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let statements: RowsStatements;
  let service: JsResultService;

  beforeAll(async () => {
    database = await createTestDatabase();
    const registry = new PreparedStatements();
    dataSource = await openDataSource({ database: database.target, poolSize: 2, statementTimeoutMs: 10_000 }, registry);
    statements = new RowsStatements(dataSource, registry);
    const db = new Database(dataSource, registry);
    service = new JsResultService(new JsResultRepository(db), new ServerSecretRepository(db), { workerNamesCacheTtlMs: 0, responses: DEFAULT_RESPONSE_LIMITS });
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  const authOf = (raw: ModelLimit[] | undefined): Auth =>
    raw === undefined ? { kind: 'super', tokenId: 1, tokenKey: 'k1' } : { kind: 'limited', tokenId: 2, tokenKey: 'k2', limits: readTokenLimits(raw) };

  async function reset(rows: StoredRow[]): Promise<ModelRow[]> {
    await dataSource.query('DELETE FROM js_result');
    const repo = dataSource.getRepository(JsResult);
    const saved = await repo.save(
      rows.map((r) =>
        repo.create({
          jsWorkerId: 1,
          jsWorkerName: r.jsWorkerName,
          runType: 'call',
          startTime: r.startTime,
          finishTime: r.finishTime,
          result: r.state === 'success' ? { ok: 1 } : null,
          errorMessage: r.state === 'failure' ? 'e' : null,
        }),
      ),
    );
    return saved.map(toModelRow);
  }

  const DENIED = { code: DomainErrorCode.PermissionDenied };

  async function rowsOf(statement: Statement): Promise<JsResultRecord[]> {
    return (await dataSource.query<Parameters<typeof toRecord>[0][]>(statement.text, statement.values)).map(toRecord);
  }

  /** The records of the JSON array PostgreSQL assembles for a statement (the form of reads above the default cap). */
  async function jsonOf(statement: Statement): Promise<JsResultRecord[]> {
    const [{ json }] = await dataSource.query<{ json: string }[]>(statement.text, statement.values);
    return JSON.parse(json) as JsResultRecord[];
  }

  /** Every read the statements can make for this call: plain rows through toRecord, and the JSON form. */
  async function rowsInEveryScope(cond: unknown[], raw: ModelLimit[] | undefined): Promise<JsResultRecord[][]> {
    const selection = parseConditions(cond);
    const access = authoriseWorkers(selection, authOf(raw), 'read');
    if (grantsNothing(access)) return [[]];
    const limit = selection.limit ?? DEFAULT_QUERY_CAP;
    const asJson = await jsonOf(statements.selectJson(selection.filters, access, limit));
    if (access.kind === 'all') return [await rowsOf(statements.selectRows(selection.filters, access, limit)), asJson];
    const names = statements.workerNames(access.prefixes);
    const prefixed = access.prefixes.length > 0 ? await dataSource.query<{ name: string }[]>(names.text, names.values) : [];
    const known = distinctNames(access.names, prefixed.map((r) => r.name));
    const fromKnown = known.names.length > 0 ? await rowsOf(statements.selectRows(selection.filters, known, limit)) : [];
    return [await rowsOf(statements.selectRows(selection.filters, access, limit)), fromKnown, asJson];
  }

  /** What a property draws: a token's limits, and the stored rows with the call's conditions. */
  interface Inputs {
    limits: fc.Arbitrary<ModelLimit[] | undefined>;
    call: fc.Arbitrary<[StoredRow[], unknown[]]>;
  }
  const anyInputs: Inputs = { limits, call: fc.tuple(table, conditions) };

  /**
   * Inputs on which a `start_time_from` that is off by one always shows: the
   * super token, and a bound equal to the first stored row's start time, so
   * that row is in the contract's answer and not in the mutant's.
   */
  const boundOnARow: Inputs = {
    limits: fc.constant(undefined),
    call: fc.array(row, { minLength: 1, maxLength: 25 }).map(([first, ...rest]): [StoredRow[], unknown[]] => {
      const startTime = first.startTime ?? T0;
      return [[{ ...first, startTime }, ...rest], [{ start_time_from: startTime }]];
    }),
  };

  function queryMatches(model: Model, inputs: Inputs = anyInputs) {
    return fc.asyncProperty(inputs.limits, inputs.call, async (raw, [rows, cond]) => {
      const stored = await reset(rows);
      const expected = model(stored, cond, raw, 'read');
      const selection = parseConditions(cond);
      if (expected === 'denied') {
        await expect(service.query(selection, authOf(raw))).rejects.toMatchObject(DENIED);
        return;
      }
      const answer = await service.query(selection, authOf(raw));
      expect(answer instanceof JsonText ? JSON.parse(answer.text) : answer).toEqual(expected);
      for (const read of await rowsInEveryScope(cond, raw)) expect(read).toEqual(expected);
    });
  }

  function deleteMatches(model: Model, inputs: Inputs = anyInputs) {
    return fc.asyncProperty(inputs.limits, inputs.call, async (raw, [rows, cond]) => {
      const stored = await reset(rows);
      const expected = model(stored, cond, raw, 'delete');
      const remaining = async () => (await dataSource.query<{ id: string }[]>('SELECT id FROM js_result ORDER BY id')).map((r) => Number(r.id));
      if (expected === 'denied') {
        await expect(service.delete(parseConditions(cond), authOf(raw), AUDIT)).rejects.toMatchObject(DENIED);
        expect(await remaining()).toHaveLength(stored.length);
        return;
      }
      const gone = new Set(expected.map((r: ModelRow) => r.id));
      expect(await service.delete(parseConditions(cond), authOf(raw), AUDIT)).toEqual({ success: true, deleted: expected.length, condition_count: cond.length });
      expect(await remaining()).toEqual(stored.filter((r) => !gone.has(r.id)).map((r) => r.id));
    });
  }

  it('reads return exactly the rows the model allows, in its order, in every form and scope', async () => {
    await fc.assert(queryMatches(modelSelect), { numRuns: 200 });
  });

  it('deletes remove exactly the rows the model selects', async () => {
    await fc.assert(deleteMatches(modelSelect), { numRuns: 200 });
  });

  it('tells a bound off by one from the contract, for reads and for deletes', async () => {
    // On random inputs a counterexample is likely but not certain (CI once drew 300 without one), so
    // the mutant meets inputs where every draw is one; the correct model must still pass on them.
    for (const property of [queryMatches(modelWithStrictFrom, boundOnARow), deleteMatches(modelWithStrictFrom, boundOnARow)]) {
      const outcome = await fc.check(property, { numRuns: 20, endOnFailure: true });
      expect(outcome.failed).toBe(true);
      expect(outcome.numRuns).toBe(1);
    }
    await fc.assert(queryMatches(modelSelect, boundOnARow), { numRuns: 20 });
    await fc.assert(deleteMatches(modelSelect, boundOnARow), { numRuns: 20 });
  });
});
