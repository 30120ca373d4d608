import { Client } from 'pg';
import { percentile } from './load';

/**
 * Every-second jobs for the cron bench and the chaos scenario, and what their
 * firing records say afterwards: duplicates, missed due times, lag, and
 * whether every firing is linked to its run.
 */

export const CRON_WORKER = 'cron_load_tick';
const TRIVIAL = 'export default { onCron(params) { return params; } }';
const BATCH = 100;

async function rpcBatch(baseUrl: string, calls: { method: string; params: unknown }[]): Promise<any[]> {
  const res = await fetch(`${baseUrl}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(calls.map((c, i) => ({ jsonrpc: '2.0', id: i + 1, method: c.method, params: c.params }))),
  });
  return (await res.json()) as any[];
}

const jobName = (prefix: string, i: number) => `${prefix}${String(i).padStart(5, '0')}`;

/** A trivial worker and `count` every-second jobs running it, named `<prefix>00000`…; earlier ones of the prefix are removed first. */
export async function createEverySecondJobs(databaseUrl: string, baseUrl: string, token: string, prefix: string, count: number): Promise<void> {
  await sql(databaseUrl, async (db) => {
    await db.query('DELETE FROM crontab WHERE starts_with(name, $1)', [prefix]);
    await db.query('DELETE FROM crontab_result WHERE starts_with(cron_name, $1)', [prefix]);
  });
  await rpcBatch(baseUrl, [{ method: 'js-worker_delete', params: { token, name: CRON_WORKER } }]);
  const [created] = await rpcBatch(baseUrl, [
    { method: 'js-worker_create', params: { token, name: CRON_WORKER, js_script_base64: Buffer.from(TRIVIAL).toString('base64') } },
  ]);
  if (created.error) throw new Error(`js-worker_create: ${JSON.stringify(created.error)}`);
  for (let from = 0; from < count; from += BATCH) {
    const calls = Array.from({ length: Math.min(BATCH, count - from) }, (_, k) => ({
      method: 'crontab_create',
      params: { token, name: jobName(prefix, from + k), cron_expression: '* * * * * *', cron_type: { server: { js_worker: [CRON_WORKER, { n: from + k }] } } },
    }));
    const failed = (await rpcBatch(baseUrl, calls)).filter((reply) => reply.error);
    if (failed.length > 0) throw new Error(`crontab_create: ${JSON.stringify(failed[0].error)}`);
  }
}

/** Stops the jobs of the prefix (a plain UPDATE: the table's trigger tells every instance). */
export function disableJobs(databaseUrl: string, prefix: string): Promise<void> {
  return sql(databaseUrl, async (db) => {
    await db.query('UPDATE crontab SET enable = false WHERE starts_with(name, $1)', [prefix]);
  });
}

export interface FiringAnalysis {
  jobs: number;
  windowSeconds: number;
  firings: number;
  firingsPerSecond: number;
  /** Firing records beyond the first for one job's due time. */
  duplicates: number;
  /** Due times (whole seconds in the window, per job) with no firing record. */
  missed: number;
  /** The longest time between two consecutive firings of one job, ms. */
  maxGapMs: number;
  failedFirings: number;
  /** Successful firings whose relative_id names no js_result row. */
  unlinked: number;
  /** Cron runs of the worker in the window that no firing record names (a firing half written). */
  orphanRuns: number;
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  workerRunsPerSecond: number;
}

/** What the firing records of the prefix's jobs say about the due times in (fromMs, toMs]. */
export async function analyseFirings(databaseUrl: string, prefix: string, fromMs: number, toMs: number): Promise<FiringAnalysis> {
  const from = Math.ceil(fromMs / 1000) * 1000;
  const to = Math.floor(toMs / 1000) * 1000;
  return sql(databaseUrl, async (db) => {
    const one = async (text: string, values: unknown[] = []) => (await db.query(text, values)).rows[0];
    const inWindow = 'starts_with(f.cron_name, $1) AND f.run_time >= $2 AND f.run_time <= $3';
    const args = [prefix, from, to];
    const jobs = Number((await one('SELECT count(*) AS n FROM crontab WHERE starts_with(name, $1)', [prefix])).n);
    const counts = await one(
      `SELECT count(*) AS firings, count(DISTINCT (f.cron_id, f.run_time)) AS distinct_firings,
              count(*) FILTER (WHERE f.success IS NOT TRUE) AS failed,
              count(*) FILTER (WHERE f.success AND r.id IS NULL) AS unlinked
       FROM crontab_result f LEFT JOIN js_result r ON r.id = f.relative_id WHERE ${inWindow}`,
      args,
    );
    const gap = await one(
      `SELECT coalesce(max(gap), 0) AS max_gap FROM (
         SELECT f.run_time - lag(f.run_time) OVER (PARTITION BY f.cron_id ORDER BY f.run_time) AS gap FROM crontab_result f WHERE ${inWindow}) g`,
      args,
    );
    const lags = (
      await db.query(
        `SELECT r.start_time - f.run_time AS lag FROM crontab_result f JOIN js_result r ON r.id = f.relative_id WHERE ${inWindow} ORDER BY 1`,
        args,
      )
    ).rows.map((row) => Number(row.lag));
    const orphans = await one(
      `SELECT count(*) AS n FROM js_result r WHERE r.js_worker_name = $1 AND r.run_type = 'cron' AND r.start_time >= $2 AND r.start_time <= $3
         AND NOT EXISTS (SELECT 1 FROM crontab_result f WHERE f.relative_id = r.id)`,
      [CRON_WORKER, from, to],
    );
    const runs = await one(`SELECT count(*) AS n FROM js_result WHERE js_worker_name = $1 AND finish_time >= $2 AND finish_time <= $3`, [CRON_WORKER, from, to]);
    const windowSeconds = (to - from) / 1000;
    const firings = Number(counts.firings);
    const distinct = Number(counts.distinct_firings);
    return {
      jobs,
      windowSeconds,
      firings,
      // Due times at both ends of the window count: windowSeconds + 1 of them per job.
      firingsPerSecond: round(firings / (windowSeconds + 1)),
      duplicates: firings - distinct,
      missed: Math.max(0, jobs * (windowSeconds + 1) - distinct),
      maxGapMs: Number(gap.max_gap),
      failedFirings: Number(counts.failed),
      unlinked: Number(counts.unlinked),
      orphanRuns: Number(orphans.n),
      lagP50Ms: percentile(lags, 50),
      lagP99Ms: percentile(lags, 99),
      lagMaxMs: lags.length ? lags[lags.length - 1] : NaN,
      workerRunsPerSecond: round(Number(runs.n) / windowSeconds),
    };
  });
}

const round = (n: number) => Math.round(n * 10) / 10;

async function sql<T>(databaseUrl: string, use: (db: Client) => Promise<T>): Promise<T> {
  const db = new Client({ connectionString: databaseUrl, application_name: 'jsr-cron-load' });
  await db.connect();
  try {
    return await use(db);
  } finally {
    await db.end();
  }
}
