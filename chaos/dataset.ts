import type { Client } from 'pg';
import { applySchema, createTokens, ensureDatabase, seedIfNeeded, withClient } from '../bench/database';
import { NAMED_WORKER } from '../bench/dataset';
import type { BenchTokens } from '../bench/scenarios';

/** The chaos database's name on the throw-away cluster. */
export const CHAOS_DATABASE = 'jsr_chaos';
/** The benchmark's table, small: 1,000 workers of 100 rows each. */
export const SEED_ROWS = 100_000;
/** The worker the hostile batch reads, 10,000 rows at a time. */
export const HEAVY_WORKER = 'chaos_heavy';
export const HEAVY_ROWS = 20_000;
/** The worker whose rows are deleted while the server is killed. */
export const DELETE_WORKER = 'chaos_delete';

/** The application name of the suite's own connections to the chaos database. */
const CHAOS_CLIENT = 'jsr-chaos-seed';

export interface ChaosData {
  url: string;
  tokens: BenchTokens;
  /** S1 of the benchmark: the dashboard's read of one named worker, limit 10, with a `key:secret` token. */
  s1Body: string;
}

/**
 * Replaces a worker's rows with `count` fresh ones (about the benchmark's
 * 200 bytes of JSON each), in one transaction so a count never sees half.
 */
export async function fillWorker(url: string, worker: string, count: number): Promise<void> {
  await withClient(url, async (client) => {
    await client.query('BEGIN');
    await client.query('DELETE FROM js_result WHERE js_worker_name = $1', [worker]);
    await client.query(
      `INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time, finish_time, param, result)
       SELECT 9000, $1, 'cron', 1700000000000 + s * 1000, 1700000000000 + s * 1000 + 40,
              jsonb_build_object('url', 'https://api.example.com/v2/sites/' || s || '/metrics', 'method', 'GET', 'attempt', 1),
              jsonb_build_object('status', 200, 'items', s % 500, 'etag', md5(s::text), 'cached', s % 5 = 0)
       FROM generate_series(1, $2::bigint) AS s`,
      [worker, count],
    );
    await client.query('COMMIT');
    await client.query('ANALYZE js_result');
  }, CHAOS_CLIENT);
}

export async function countRows(url: string, where: string, params: unknown[] = []): Promise<number> {
  const count = (client: Client) => client.query(`SELECT count(*)::bigint AS n FROM js_result WHERE ${where}`, params);
  return withClient(url, async (client) => Number((await count(client)).rows[0].n), CHAOS_CLIENT);
}

/** Creates, migrates and seeds the chaos database, and makes the benchmark's tokens on it. */
export async function prepareChaosData(url: string, log: (line: string) => void, seedRows = SEED_ROWS): Promise<ChaosData> {
  await ensureDatabase(url);
  await applySchema(url);
  await seedIfNeeded(url, seedRows, log);
  await fillWorker(url, HEAVY_WORKER, HEAVY_ROWS);
  const tokens = await createTokens(url);
  const s1Body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'js-result_query',
    params: { token: tokens.named, query: { condition: [{ js_worker_name: NAMED_WORKER }, { limit: 10 }] } },
  });
  return { url, tokens, s1Body };
}
