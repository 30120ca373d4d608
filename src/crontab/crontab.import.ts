import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { audited, operatorAction } from '../audit/audit.statements';
import { isUniqueViolation, withDatabase } from '../database/database.errors';

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
export async function importNodeGetCrontabs(from: string, into: DataSource): Promise<CrontabImportReport> {
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

async function importJob(job: NodeGetCrontab, into: DataSource): Promise<'skipped_name_taken' | 'skipped_agent' | number> {
  if (!Object.prototype.hasOwnProperty.call(JSON.parse(job.cron_type) ?? {}, 'server')) return 'skipped_agent';
  const statement = audited(
    {
      text: `INSERT INTO crontab (name, enable, cron_expression, cron_type, last_run_time, schedule_from)
             VALUES ($1, $2, $3, $4::jsonb, $5, NULL) ON CONFLICT (name) DO NOTHING RETURNING id`,
      values: [job.name, job.enable, job.cron_expression, job.cron_type, job.last_run_time],
    },
    operatorAction('import_nodeget', { crontab: job.name }),
  );
  try {
    const [row] = await withDatabase(() => into.query<{ id: string }[]>(statement.text, statement.values));
    return row === undefined ? 'skipped_name_taken' : Number(row.id);
  } catch (error) {
    if (isUniqueViolation(error)) return 'skipped_name_taken';
    throw error;
  }
}

/** The records of the imported jobs, in pages by id, each page one audited insert. */
async function importResults(source: Client, into: DataSource, newIds: Map<string, string>): Promise<number> {
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
        text: `INSERT INTO crontab_result (cron_id, cron_name, relative_id, run_time, success, message)
               SELECT * FROM unnest($1::bigint[], $2::varchar[], $3::bigint[], $4::bigint[], $5::boolean[], $6::varchar[])
               RETURNING id`,
        values: ['cron_id', 'cron_name', 'relative_id', 'run_time', 'success', 'message'].map(column),
      },
      operatorAction('import_nodeget', { crontab_result_after_id: after }),
      'count',
    );
    const [{ affected }] = await withDatabase(() => into.query<{ affected: string }[]>(statement.text, statement.values));
    imported += Number(affected);
  }
}
