import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { Semaphore } from '../common/semaphore';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { withDatabase } from '../database/database.errors';
import { type NamedStatement, PreparedStatements } from '../database/prepared-statements';
import type { Auth, WorkerAccess } from '../token/auth';
import { DEFAULT_QUERY_CAP, type Selection } from './conditions/condition.types';
import { authoriseWorkers, grantsNothing } from './js-result.access';
import { type DeleteOutcome, type JsResultRecord, toRecord } from './js-result.record';
import { deleteSql, type KnownWorkers, knownWorkers, selectSql, workerNamesSql } from './js-result.sql';
import { WorkerNamesCache } from './worker-names.cache';

/**
 * Reads above the default cap (up to 10,000 rows) each hold about 20 MB until
 * their reply is written. Running more than a couple at once adds memory, not
 * throughput: in the benchmark's S7 (16 clients asking for 10,000 rows) two at
 * a time kept RSS growth near 140 MB instead of 250-300 MB, at the same req/s.
 */
const LARGE_READ_SLOTS = 2;

@Injectable()
export class JsResultService {
  private readonly largeReads = new Semaphore(LARGE_READ_SLOTS);
  private readonly statements = new PreparedStatements('js_result_');
  private readonly workerNames: WorkerNamesCache;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'workerNamesCacheTtlMs'>,
  ) {
    this.workerNames = new WorkerNamesCache((prefixes) => this.findWorkerNames(prefixes), config.workerNamesCacheTtlMs);
  }

  /** The newest records matching every condition that the caller may read. */
  async query(selection: Selection, auth: Auth): Promise<JsResultRecord[]> {
    const access = authoriseWorkers(selection, auth, 'read');
    if (grantsNothing(access)) return [];
    const scope = access.kind === 'all' ? access : await this.knownWorkers(access);
    if (scope.kind === 'workers' && scope.names.length === 0) return [];
    const limit = selection.limit ?? DEFAULT_QUERY_CAP;
    const { text, values } = selectSql(selection.filters, scope, limit);
    const statement = this.statements.name({ text, values });
    const read = async () => (await withDatabase(() => this.pool.query<StoredRow>(statement))).rows.map(toRecord);
    return limit > DEFAULT_QUERY_CAP ? this.largeReads.run(read) : read();
  }

  /** Deletes what `query` would select, without its default cap, in one statement. */
  async delete(selection: Selection, auth: Auth): Promise<DeleteOutcome> {
    const access = authoriseWorkers(selection, auth, 'delete');
    const outcome = (deleted: number): DeleteOutcome => ({
      success: true,
      deleted,
      condition_count: selection.conditionCount,
    });
    if (grantsNothing(access)) return outcome(0);
    const { text, values } = deleteSql(selection.filters, access, selection.limit);
    const { rowCount } = await withDatabase(() => this.pool.query(this.statements.name({ text, values })));
    return outcome(rowCount ?? 0);
  }

  /**
   * The workers a restricted read may see: the token's exact names as given,
   * and the existing names under its wildcard prefixes. Deletes do not use
   * this: they resolve the names inside their statement, so a cached list can
   * never leave a new worker's rows behind.
   */
  private async knownWorkers(access: Extract<WorkerAccess, { kind: 'some' }>): Promise<KnownWorkers> {
    const prefixed = access.prefixes.length > 0 ? await this.workerNames.under(access.prefixes) : [];
    return knownWorkers(access.names, prefixed);
  }

  private async findWorkerNames(prefixes: readonly string[]): Promise<string[]> {
    const { rows } = await withDatabase(() => this.pool.query<{ name: string }>(this.statements.name(workerNamesSql(prefixes))));
    return rows.map((row) => row.name);
  }

  /**
   * The driver's own pool (pg's Pool, or the embedded PGlite pool, which has
   * the same query()). These are single statements, so they skip TypeORM's
   * query runner: a runner per call cost about 55 µs of CPU per request, an
   * eighth of the service's time in the benchmark's S1 (bench/README.md).
   */
  private get pool(): SqlPool {
    // `master` is the postgres driver's pool; typed structurally to avoid importing TypeORM internals.
    return (this.dataSource.driver as unknown as { master: SqlPool }).master;
  }
}

type StoredRow = Parameters<typeof toRecord>[0];

interface SqlPool {
  query<Row = unknown>(statement: NamedStatement): Promise<{ rows: Row[]; rowCount: number | null }>;
}

