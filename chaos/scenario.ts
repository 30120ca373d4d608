import type { ServerProcess } from '../bench/processes';
import type { ThrowAwayCluster } from './cluster';
import type { ChaosData } from './dataset';
import type { Tally } from './tally';

/** One pass/fail statement of a scenario, with the numbers behind it. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** One row of the report. */
export interface ScenarioResult {
  id: string;
  title: string;
  /** JSON-RPC calls sent (a batch counts each of its calls). */
  sent: number;
  /** Calls that got a JSON-RPC reply, success or error. */
  answered: number;
  /** Calls with no reply within the client's timeout: hangs. */
  timedOut: number;
  /** Every outcome but success and timeout: JSON-RPC codes, `http-NNN`, `net` (connection failed or cut). */
  errorsByCode: Record<string, number>;
  /** Undefined where the scenario changes no rows. */
  rowsLostOrDuplicated?: number;
  peakRssBytes?: number;
  /** In words: the scenario's own recovery measure. */
  recovery: string;
  checks: Check[];
  /** Measured numbers worth keeping beside the row (latencies, cut counts...). */
  details: Record<string, unknown>;
  seconds: number;
}

export type Log = (line: string) => void;

export interface ChaosContext {
  cluster: ThrowAwayCluster;
  data: ChaosData;
  log: Log;
  /** The built service on the chaos database; the scenario stops it. */
  startServer(env?: Record<string, string>): Promise<ServerProcess>;
}

export interface ChaosScenario {
  id: string;
  title: string;
  run(context: ChaosContext): Promise<ScenarioResult>;
}

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function check(name: string, ok: boolean, detail: string): Check {
  return { name, ok, detail };
}

/** Whether the process is still there (signal 0 checks without sending anything). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const MiB = 1024 * 1024;
/** The ceiling for the server's RSS, whatever one request asks for. */
export const RSS_CEILING_BYTES = 1024 * MiB;

/** A scenario row's call counts, from the tally of every call it sent. */
export function callCounts(all: Tally): Pick<ScenarioResult, 'sent' | 'answered' | 'timedOut' | 'errorsByCode'> {
  return { sent: all.sent, answered: all.answered, timedOut: all.timedOut, errorsByCode: all.errorsByCode };
}

/** The victims' calls (S1) all succeeded: none failed and none went unanswered. */
export function neverFailsCheck(name: string, calls: Tally): Check {
  const timedOut = calls.timedOut ? `, ${calls.timedOut} timed out` : '';
  return check(`${name} never fails`, calls.ok === calls.sent, `${calls.sent - calls.ok} of ${calls.sent} failed: ${JSON.stringify(calls.errorsByCode)}${timedOut}`);
}

export function peakRssCheck(peakBytes: number): Check {
  return check('peak RSS under 1 GiB', peakBytes < RSS_CEILING_BYTES, `${Math.round(peakBytes / MiB)} MiB`);
}
