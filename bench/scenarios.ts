import { parseConditions } from '../src/js-result/conditions/condition.parser';
import { DEFAULT_QUERY_CAP } from '../src/js-result/conditions/condition.types';
import { authoriseWorkers } from '../src/js-result/js-result.access';
import type { Statement } from '../src/js-result/js-result.statements';
import type { RowsStatements } from './rows-statements';
import { type Auth, canAccessWorker } from '../src/token/auth';
import { readTokenLimits } from '../src/token/token-limit';
import { ACTION_OF, type CallMethod, statementForCall } from './call-sql';
import { ALL_WORKER_NAMES, DAY_MS, DELETE_WORKER, NAMED_WORKER, SEED_END_MS, WILDCARD_PATTERN } from './dataset';

export type TokenRole = 'super' | 'named' | 'wildcard' | 'deleter';
export type Transport = 'http' | 'ws';
export type BenchTokens = Record<TokenRole, string>;

interface RoleLimits {
  named: unknown;
  wildcard: unknown;
  deleter: unknown;
}

function limitsFor(pattern: string, actions: ('read' | 'delete')[]): unknown {
  return [{ scopes: [{ js_worker: pattern }], permissions: actions.map((action) => ({ js_result: { [action]: pattern } })) }];
}

/** The stored token_limit of each non-super role. */
export function tokenLimitsFor(): RoleLimits {
  return {
    named: limitsFor(NAMED_WORKER, ['read', 'delete']),
    wildcard: limitsFor(WILDCARD_PATTERN, ['read', 'delete']),
    deleter: limitsFor(DELETE_WORKER, ['read', 'delete']),
  };
}

export function authFor(role: TokenRole): Auth {
  if (role === 'super') return { kind: 'super', tokenId: 1, tokenKey: 'bench-super' };
  return { kind: 'limited', tokenId: 0, tokenKey: 'bench', limits: readTokenLimits(tokenLimitsFor()[role]) };
}

export interface Scenario {
  id: string;
  title: string;
  method: CallMethod;
  role: TokenRole;
  conditions: unknown[];
  /** js-result_page: its `page_size` (the first page is asked for, without a cursor). */
  pageSize?: number;
  /** Calls per HTTP request: 1 is a single call, more is a JSON-RPC batch. */
  batch: number;
  /**
   * How the servers are called: `http` posts (autocannon), `ws` text frames on one persistent
   * WebSocket connection per client, one request in flight on each (ws-load.ts). pgbench is the same.
   */
  transport: Transport;
  /** The peak RSS of the servers is sampled while it runs. */
  measureRss?: boolean;
  /** It deletes: the worker is refilled while it runs and restored afterwards. */
  deletes?: boolean;
}

/**
 * A delete must report one row or none: 16 clients deleting "the newest" row
 * of one worker race for the same row, and under READ COMMITTED the losers
 * find it gone and delete nothing, which is correct. The rows really deleted
 * are counted separately (see startRefiller).
 */
export function replyCheckFor(scenario: Scenario): (body: string) => boolean {
  return scenario.deletes ? (body) => replyIsSuccess(body) && /"deleted":[01],/.test(body) : replyIsSuccess;
}

const LAST_WEEK: [number, number] = [SEED_END_MS - 7 * DAY_MS, SEED_END_MS];

const S1_CONDITIONS = [{ js_worker_name: NAMED_WORKER }, { limit: 10 }];

export const SCENARIOS: Scenario[] = [
  { id: 'S1', title: 'named worker, limit 10', method: 'js-result_query', role: 'named', batch: 1, transport: 'http',
    conditions: S1_CONDITIONS },
  { id: 'S2', title: 'named worker, is_running', method: 'js-result_query', role: 'named', batch: 1, transport: 'http',
    conditions: [{ js_worker_name: NAMED_WORKER }, 'is_running'] },
  { id: 'S3', title: 'no name, wildcard token (1% of workers), limit 20', method: 'js-result_query', role: 'wildcard', batch: 1, transport: 'http',
    conditions: [{ limit: 20 }] },
  { id: 'S4', title: 'no name, wildcard token, is_failure in the last 7 days', method: 'js-result_query', role: 'wildcard', batch: 1, transport: 'http',
    conditions: ['is_failure', { start_time_from_to: LAST_WEEK }] },
  { id: 'S5', title: 'batch of 10 S1 calls in one request', method: 'js-result_query', role: 'named', batch: 10, transport: 'http',
    conditions: S1_CONDITIONS },
  { id: 'S6', title: 'delete "last" of a named worker (refilled)', method: 'js-result_delete', role: 'deleter', batch: 1, transport: 'http',
    conditions: [{ js_worker_name: DELETE_WORKER }, 'last'], deletes: true },
  { id: 'S7', title: 'super token, limit 10000 (large payload)', method: 'js-result_query', role: 'super', batch: 1, transport: 'http',
    conditions: [{ limit: 10_000 }], measureRss: true },
  // Its pgbench ceiling and plan are S7's statement with a limit of the page size + 1, the rows a page reads.
  { id: 'S9', title: 'super token, js-result_page page_size 10000 (large payload)', method: 'js-result_page', role: 'super', batch: 1, transport: 'http',
    conditions: [], pageSize: 10_000, measureRss: true },
  // The ceiling of S8 is S1's: pgbench runs the same statement (there is no WebSocket in it).
  { id: 'S8', title: 'S1 over WebSocket, one connection per client', method: 'js-result_query', role: 'named', batch: 1, transport: 'ws',
    conditions: S1_CONDITIONS },
];

function paramsOf(scenario: Scenario, tokens: BenchTokens): Record<string, unknown> {
  const params: Record<string, unknown> = { token: tokens[scenario.role], query: { condition: scenario.conditions } };
  if (scenario.pageSize !== undefined) params.page_size = scenario.pageSize;
  return params;
}

/** The selection a scenario's call reads: a page reads its page size + 1 rows (whether more follow), as a query of that limit. */
function selectionOf(scenario: Scenario): ReturnType<typeof parseConditions> {
  const selection = parseConditions(scenario.conditions);
  return scenario.pageSize === undefined ? selection : { ...selection, limit: scenario.pageSize + 1 };
}

/** The HTTP body autocannon posts: one JSON-RPC request, or a batch of identical ones. */
export function requestBody(scenario: Scenario, tokens: BenchTokens): string {
  const call = (id: number) => ({ jsonrpc: '2.0', id, method: scenario.method, params: paramsOf(scenario, tokens) });
  return JSON.stringify(scenario.batch === 1 ? call(1) : Array.from({ length: scenario.batch }, (_, i) => call(i + 1)));
}

/**
 * The WebSocket frame of request `id`: the same single request as requestBody
 * with its own id, so each reply can be matched to its request.
 */
export function requestFrame(scenario: Scenario, tokens: BenchTokens): (id: number) => string {
  if (scenario.batch !== 1) throw new Error(`${scenario.id}: WebSocket frames are single requests here`);
  const rest = JSON.stringify({ method: scenario.method, params: paramsOf(scenario, tokens) });
  const tail = rest.slice(1);
  return (id) => `{"jsonrpc":"2.0","id":${id},${tail}`;
}

/**
 * The SQL the service runs for one call of the scenario, derived through the
 * same parser, access rules and statement builder; pgbench and EXPLAIN use it.
 */
export function scenarioStatement(statements: RowsStatements, scenario: Scenario, rows: number): Statement {
  const selection = selectionOf(scenario);
  const access = authoriseWorkers(selection, authFor(scenario.role), ACTION_OF[scenario.method]);
  // The names the service finds under the token's prefixes: the dataset's workers present at this size.
  const present = ALL_WORKER_NAMES.slice(0, Math.min(rows, ALL_WORKER_NAMES.length));
  const prefixed = access.kind === 'patterns' ? present.filter((name) => access.prefixes.some((p) => name.startsWith(p))) : [];
  const statement = statementForCall(statements, scenario.method, selection, access, prefixed);
  if (statement === undefined) throw new Error(`${scenario.id}: its token reaches no worker at ${rows} rows`);
  return statement;
}

/**
 * The most rows a top-N plan needs to sort: the per-worker limit times the
 * workers the call may reach. A Sort above this is a sort of the whole set.
 */
export function sortBound(scenario: Scenario): number {
  const selection = selectionOf(scenario);
  const limit = selection.limit ?? DEFAULT_QUERY_CAP;
  if (selection.namedWorkers.length > 0) return limit;
  const auth = authFor(scenario.role);
  const reachable = ALL_WORKER_NAMES.filter((name) => canAccessWorker(auth, ACTION_OF[scenario.method], name)).length;
  return limit * Math.max(1, auth.kind === 'super' ? 1 : reachable);
}

/** Body check shared by every run: a 200 with a JSON-RPC error inside is still an error. */
export function replyIsSuccess(body: string): boolean {
  return body.length > 0 && !body.includes('"error":{') && body.includes('"result":');
}
