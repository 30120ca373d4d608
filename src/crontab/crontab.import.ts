import { Client } from 'pg';
import { audited, operatorAction } from '../database/audited-change';
import type { Database } from '../database/database';
import { isUniqueViolation } from '../database/database.errors';
import { Crontab } from './crontab.entity';
import { CRON_TYPE_AS_JSONB } from './crontab.fragments';
import { INSERT_RESULTS_FROM_ARRAYS } from './crontab-result.fragments';

/** What the import did with NodeGet's schedules and firing records. */
export interface CrontabImportReport {
  imported: number;
  skipped_name_taken: number;
  /** Agent jobs dispatch to NodeGet agents, which this service does not have (CRONTAB.md). */
  skipped_agent: number;
  results_imported: number;
}

interface NodeGetCrontab {
  id: string;
  name: string;
  enable: boolean;
  cron_expression: string;
  /** As text, so 64-bit integers in a job's params are stored as they came. */
  cron_type: string;
  last_run_time: string | null;
}

const RESULTS_PER_STATEMENT = 1_000;

/**
 * Copies NodeGet's `crontab` and `crontab_result` rows (its migrations
 * m20260206_035808 and m20260206_040842), when its database has them. A job
 * keeps its name, expression, kind, enable flag and last_run_time, so it
 * goes on from its last firing (missed times collapse into one firing, as in
 * NodeGet); it gets an id here, and its firing records follow it to that id.
 * A job whose name is taken here is skipped with its records, never
 * overwritten, so running the import again adds nothing. A record's
 * relative_id is kept as NodeGet wrote it: it names a row of NodeGet's
 * js_result table (or, for an agent job, a task), not of this database's.
 */
export async function importNodeGetCrontabs(from: string, into: Database): Promise<CrontabImportReport> {
  const report: CrontabImportReport = { imported: 0, skipped_name_taken: 0, skipped_agent: 0, results_imported: 0 };
  const source = new Client({ connectionString: from, connectionTimeoutMillis: 10_000 });
  await source.connect();
  try {
    const [{ present }] = (await source.query<{ present: boolean }>("SELECT to_regclass('crontab') IS NOT NULL AND to_regclass('crontab_result') IS NOT NULL AS present")).rows;
    if (!present) return report;
    const jobs = (
      await source.query<NodeGetCrontab>('SELECT id, name, enable, cron_expression, cron_type::text AS cron_type, last_run_time FROM crontab ORDER BY id')
    ).rows;
    const newIds = new Map<string, string>();
    for (const job of jobs) {
      const outcome = await importJob(job, into);
      if (typeof outcome === 'string' && outcome.startsWith('skipped')) report[outcome as keyof CrontabImportReport]++;
      else {
        newIds.set(String(job.id), String(outcome));
        report.imported++;
      }
    }
    report.results_imported = await importResults(source, into, newIds);
  } finally {
    await source.end();
  }
  return report;
}

async function importJob(job: NodeGetCrontab, into: Database): Promise<'skipped_name_taken' | 'skipped_agent' | number> {
  if (!Object.prototype.hasOwnProperty.call(JSON.parse(job.cron_type) ?? {}, 'server')) return 'skipped_agent';
  // Only the name can clash (the id is the identity's), so "do nothing on a conflict" is "skip a taken name".
  const [text, values] = into.dataSource
    .createQueryBuilder()
    .insert()
    .into(Crontab)
    .values({
      name: job.name,
      enable: job.enable,
      cronExpression: job.cron_expression,
      cronType: () => CRON_TYPE_AS_JSONB,
      lastRunTime: job.last_run_time === null ? null : Number(job.last_run_time),
      scheduleFrom: null,
    })
    .setParameter('cronType', job.cron_type)
    .orIgnore()
    .returning('id')
    .getQueryAndParameters();
  try {
    const row = await into.first<{ id: string }>(audited({ text, values }, operatorAction('import_nodeget', { crontab: job.name })));
    return row === undefined ? 'skipped_name_taken' : Number(row.id);
  } catch (error) {
    if (isUniqueViolation(error)) return 'skipped_name_taken';
    throw error;
  }
}

/** The records of the imported jobs, in pages by id, each page one audited insert. */
async function importResults(source: Client, into: Database, newIds: Map<string, string>): Promise<number> {
  if (newIds.size === 0) return 0;
  const oldIds = [...newIds.keys()];
  let imported = 0;
  for (let after = '0'; ; ) {
    const { rows } = await source.query<Record<string, string | boolean | null>>(
      `SELECT id, cron_id, cron_name, relative_id, run_time, success, message FROM crontab_result
       WHERE cron_id = ANY($1::bigint[]) AND id > $2 ORDER BY id LIMIT ${RESULTS_PER_STATEMENT}`,
      [oldIds, after],
    );
    if (rows.length === 0) return imported;
    after = String(rows.at(-1)!.id);
    const column = (name: string) => rows.map((row) => (name === 'cron_id' ? newIds.get(String(row.cron_id)) : row[name]));
    const statement = audited(
      {
        text: INSERT_RESULTS_FROM_ARRAYS,
        values: ['cron_id', 'cron_name', 'relative_id', 'run_time', 'success', 'message'].map(column),
      },
      operatorAction('import_nodeget', { crontab_result_after_id: after }),
      'count',
    );
    const [{ affected }] = await into.rows<{ affected: string }>(statement);
    imported += Number(affected);
  }
}
