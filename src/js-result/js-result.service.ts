import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { JsonText } from '../common/json-text';
import { Semaphore } from '../common/semaphore';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import type { AuditAction } from '../audit/audit.statements';
import { withDatabase } from '../database/database.errors';
import { PreparedStatements } from '../database/prepared-statements';
import type { Auth, WorkerAccess } from '../token/auth';
import { DEFAULT_QUERY_CAP, type Selection } from './conditions/condition.types';
import { authoriseWorkers, grantsNothing } from './js-result.access';
import { type DeleteOutcome, type JsResultRecord, toRecord } from './js-result.record';
import { JsResultStatements, type KnownWorkers, knownWorkers, type Statement } from './js-result.statements';
import { WorkerNamesCache } from './worker-names.cache';

/**
 * Reads above the default cap (up to 10,000 rows) each hold megabytes until
 * their reply is written. Running more than a couple at once adds memory, not
 * throughput: in the benchmark's S7 (16 clients asking for 10,000 rows) two at
 * a time kept RSS growth near 140 MB instead of 250-300 MB, at the same req/s.
 */
const LARGE_READ_SLOTS = 2;

/**
 * The records of a read: row objects for the usual short reads, or, for reads
 * above the default cap, the JSON array PostgreSQL assembled. Measured
 * (bench/README.md): for 10 rows, building the JSON in PostgreSQL costs the
 * database more than parsing and writing it costs this process (S1 9% slower);
 * for 10,000 rows both cost the same overall, and one string holds a fraction
 * of the memory of 10,000 row objects until the reply is written.
 */
export type JsResultRecords = JsResultRecord[] | JsonText;

@Injectable()
export class JsResultService {
  private readonly largeReads = new Semaphore(LARGE_READ_SLOTS);
  private readonly statements: JsResultStatements;
  private readonly workerNames: WorkerNamesCache;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'workerNamesCacheTtlMs'>,
    @Inject(PreparedStatements) preparedStatements: PreparedStatements,
  ) {
    this.statements = new JsResultStatements(dataSource, preparedStatements);
    this.workerNames = new WorkerNamesCache((prefixes) => this.findWorkerNames(prefixes), config.workerNamesCacheTtlMs);
  }

  /** The newest records matching every condition that the caller may read. */
  async query(selection: Selection, auth: Auth): Promise<JsResultRecords> {
    const access = authoriseWorkers(selection, auth, 'read');
    if (grantsNothing(access)) return [];
    const scope = access.kind === 'all' ? access : await this.knownWorkers(access);
    if (scope.kind === 'workers' && scope.names.length === 0) return [];
    const limit = selection.limit ?? DEFAULT_QUERY_CAP;
    if (limit <= DEFAULT_QUERY_CAP) {
      return (await this.run<StoredRow[]>(this.statements.selectRows(selection.filters, scope, limit))).map(toRecord);
    }
    const statement = this.statements.selectJson(selection.filters, scope, limit);
    return this.largeReads.run(async () => new JsonText((await this.run<{ json: string }[]>(statement))[0].json));
  }

  /** Deletes what `query` would select, without its default cap, in one statement that also writes its audit entry. */
  async delete(selection: Selection, auth: Auth, action: AuditAction): Promise<DeleteOutcome> {
    const access = authoriseWorkers(selection, auth, 'delete');
    const outcome = (deleted: number): DeleteOutcome => ({
      success: true,
      deleted,
      condition_count: selection.conditionCount,
    });
    if (grantsNothing(access)) return outcome(0);
    const [{ affected }] = await this.run<{ affected: string | number }[]>(
      this.statements.delete(selection.filters, access, selection.limit, action),
    );
    return outcome(Number(affected));
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
    const rows = await this.run<{ name: string }[]>(this.statements.workerNames(prefixes));
    return rows.map((row) => row.name);
  }

  /** One statement through TypeORM's public API; the pool names the registered texts. */
  private run<T>({ text, values }: Statement): Promise<T> {
    return withDatabase(() => this.dataSource.query<T>(text, values));
  }
}

/** A js_result row as the driver returns it. */
type StoredRow = Parameters<typeof toRecord>[0];
