import { Client } from 'pg';
import { CHAOS_DATABASE, countRows, DELETE_WORKER, fillWorker } from './dataset';
import { fmtMs } from './outage';
import { type Outcome, post, rpcBody, startClock } from './rpc-client';
import { callCounts, check, type ChaosContext, type ChaosScenario, type Check, delay, type ScenarioResult } from './scenario';
import { round, tally } from './tally';

export const DELETE_ROWS = 200_000;
/**
 * How long after the DELETE is seen running the server is killed, and whether
 * PostgreSQL checks for the vanished client while the statement runs
 * (client_connection_check_interval): with the check it aborts the statement
 * and rolls back (all rows stay), without it it finishes and commits (all
 * gone). Both ends of "all or nothing" are exercised.
 */
export interface KillTrial {
  killDelayMs: number;
  abortsOnDisconnect: boolean;
}

/**
 * The third kill comes late in the statement: at this share of how long the
 * second trial's delete ran in all (it finishes on its own), since a fixed
 * delay overshoots the whole statement on a quiet machine.
 */
const LATE_KILL_SHARE = 0.6;

const TRIALS: (KillTrial | { late: true; abortsOnDisconnect: boolean })[] = [
  { killDelayMs: 0, abortsOnDisconnect: true },
  { killDelayMs: 150, abortsOnDisconnect: false },
  { late: true, abortsOnDisconnect: true },
];

/** The late kill's delay, from a trial whose delete ran to its end. */
function lateKill(trials: Trial[], abortsOnDisconnect: boolean): KillTrial {
  const whole = trials.find((t) => !t.abortsOnDisconnect && t.rowsAfter === 0);
  const ranMs = whole ? whole.killDelayMs + whole.orphanEndedMs : 400;
  return { killDelayMs: Math.round(ranMs * LATE_KILL_SHARE), abortsOnDisconnect };
}

/** The service's DELETE of js_result, running now on the chaos database. */
async function activeDeletes(admin: Client): Promise<number> {
  const { rows } = await admin.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' AND query ILIKE '%DELETE FROM "js_result"%'`,
  );
  return rows[0].n;
}

async function waitFor(test: () => Promise<boolean>, timeoutMs: number, everyMs = 5): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await test()) return true;
    await delay(everyMs);
  }
  return false;
}

async function auditedDeletes(admin: Client): Promise<number> {
  const { rows } = await admin.query(`SELECT count(*)::int AS n FROM audit_log WHERE method = 'js-result_delete' AND affected = $1`, [DELETE_ROWS]);
  return rows[0].n;
}

export interface Trial {
  killDelayMs: number;
  abortsOnDisconnect: boolean;
  /** From the kill to the end of the orphaned statement. */
  orphanEndedMs: number;
  caughtMidStatement: boolean;
  rowsAfter: number;
  auditEntryAdded: boolean;
  othersChanged: number;
  restartMs: number;
  /** What the restarted server says the worker holds: it must serve at once, and agree with the table. */
  countAfterRestart: number | undefined;
  /** What the killed server's caller got: its connection cut (`net`), nothing else. */
  deleteOutcome: Outcome;
}

async function countOver(serverUrl: string, token: string): Promise<number | undefined> {
  const res = await fetch(`${serverUrl}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: rpcBody('js-result_count', { token, query: { condition: [{ js_worker_name: DELETE_WORKER }] } }),
  });
  const body = (await res.json()) as { result?: { count?: number } };
  return body.result?.count;
}

/**
 * One kill: the server is sent a delete of 200k rows, SIGKILLed while
 * PostgreSQL runs it, and started again. PostgreSQL finishes or rolls back the
 * orphaned statement on its own; the worker must end with all its rows or
 * none, the audit entry must exist exactly when the rows are gone, and no
 * other worker's row may change.
 */
export async function killOnce(context: Pick<ChaosContext, 'data' | 'startServer'>, admin: Client, trial: KillTrial, othersBefore: number): Promise<Trial> {
  const { url, tokens } = context.data;
  const { killDelayMs, abortsOnDisconnect } = trial;
  if ((await countRows(url, 'js_worker_name = $1', [DELETE_WORKER])) !== DELETE_ROWS) await fillWorker(url, DELETE_WORKER, DELETE_ROWS);
  // Sessions read it when they open: the server started below gets it on every pooled connection.
  const database = `"${new URL(url).pathname.slice(1)}"`;
  await admin.query(abortsOnDisconnect ? `ALTER DATABASE ${database} SET client_connection_check_interval = '50ms'` : `ALTER DATABASE ${database} RESET client_connection_check_interval`);
  const auditBefore = await auditedDeletes(admin);
  const server = await context.startServer();
  const body = rpcBody('js-result_delete', { token: tokens.super, query: { condition: [{ js_worker_name: DELETE_WORKER }] } });
  const reply = post(`${server.url}/`, body, { timeoutMs: 60_000 }, startClock());
  const seen = await waitFor(async () => (await activeDeletes(admin)) > 0, 10_000);
  await delay(killDelayMs);
  const caughtMidStatement = seen && (await activeDeletes(admin)) > 0;
  const killedAt = Date.now();
  process.kill(server.pid, 'SIGKILL');
  await server.stop();
  await reply;
  // The orphaned backend goes on until it finishes or notices its client is gone.
  await waitFor(async () => (await activeDeletes(admin)) === 0, 60_000, 20);
  const orphanEndedMs = Date.now() - killedAt;
  const rowsAfter = await countRows(url, 'js_worker_name = $1', [DELETE_WORKER]);
  const othersChanged = Math.abs((await countRows(url, 'js_worker_name <> $1', [DELETE_WORKER])) - othersBefore);
  const auditEntryAdded = (await auditedDeletes(admin)) > auditBefore;
  const restarting = Date.now();
  const restarted = await context.startServer();
  const restartMs = Date.now() - restarting;
  const countAfterRestart = await countOver(restarted.url, tokens.super);
  await restarted.stop();
  return { killDelayMs, abortsOnDisconnect, orphanEndedMs, caughtMidStatement, rowsAfter, auditEntryAdded, othersChanged, restartMs, countAfterRestart, deleteOutcome: (await reply).outcomes[0] };
}

const lostOrDuplicated = (rows: number) => (rows === 0 || rows === DELETE_ROWS ? 0 : Math.min(rows, Math.abs(DELETE_ROWS - rows)));

export const killDuringDelete: ChaosScenario = {
  id: 'kill-delete',
  title: `server SIGKILLed during a ${DELETE_ROWS / 1000}k-row js-result_delete (×${TRIALS.length})`,
  async run(context): Promise<ScenarioResult> {
    const started = Date.now();
    const admin = new Client({ connectionString: context.data.url, application_name: 'jsr-chaos-watch' });
    await admin.connect();
    try {
      await fillWorker(context.data.url, DELETE_WORKER, DELETE_ROWS);
      const othersBefore = await countRows(context.data.url, 'js_worker_name <> $1', [DELETE_WORKER]);
      const trials: Trial[] = [];
      for (const spec of TRIALS) {
        const trial = await killOnce(context, admin, 'late' in spec ? lateKill(trials, spec.abortsOnDisconnect) : spec, othersBefore);
        context.log(`  kill-delete: +${trial.killDelayMs} ms, ${spec.abortsOnDisconnect ? 'aborts' : 'finishes'} on disconnect: ${trial.caughtMidStatement ? 'mid-statement' : 'MISSED'}, ${trial.rowsAfter} rows left, audit entry ${trial.auditEntryAdded ? 'added' : 'none'}`);
        trials.push(trial);
      }
      const lost = trials.reduce((sum, t) => sum + lostOrDuplicated(t.rowsAfter) + t.othersChanged, 0);
      const checks: Check[] = [
        check('every kill landed mid-statement', trials.every((t) => t.caughtMidStatement), trials.map((t) => (t.caughtMidStatement ? 'yes' : 'no')).join(', ')),
        check('all or nothing: the worker has all its rows or none', trials.every((t) => lostOrDuplicated(t.rowsAfter) === 0), trials.map((t) => t.rowsAfter).join(', ')),
        check('the audit entry exists exactly when the rows are gone', trials.every((t) => t.auditEntryAdded === (t.rowsAfter === 0)), trials.map((t) => `${t.rowsAfter === 0 ? 'gone' : 'kept'}/${t.auditEntryAdded ? 'audited' : 'no entry'}`).join(', ')),
        check('the restarted server serves at once and counts what the table holds', trials.every((t) => t.countAfterRestart === t.rowsAfter), trials.map((t) => t.countAfterRestart).join(', ')),
        check("no other worker's row changed", trials.every((t) => t.othersChanged === 0), trials.map((t) => t.othersChanged).join(', ')),
      ];
      const restart = Math.max(...trials.map((t) => t.restartMs));
      const calls = tally(trials.map((t) => ({ sentAt: 0, doneAt: 0, outcomes: [t.deleteOutcome], bytes: 0 })));
      return {
        id: this.id,
        title: this.title,
        ...callCounts(calls),
        rowsLostOrDuplicated: lost,
        recovery: `orphaned DELETE ended ≤ ${fmtMs(Math.max(...trials.map((t) => t.orphanEndedMs)))} after the kill; restarted server healthy in ≤ ${fmtMs(restart)}`,
        checks,
        details: { trials },
        seconds: round((Date.now() - started) / 1000, 1),
      };
    } finally {
      await admin.query(`ALTER DATABASE ${CHAOS_DATABASE} RESET client_connection_check_interval`);
      await admin.end();
    }
  },
};
