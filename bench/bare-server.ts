/**
 * The "bare" baseline: what a user would write by hand on node:http and pg,
 * without NestJS or TypeORM on the request path. It is honest about the work:
 * it parses JSON-RPC, authenticates the token (cached for the same time as the
 * service, SHA-256 compare), checks permissions, runs the statement the
 * service's own builder produces (its plain-rows form; TypeORM only builds each
 * text once, at its first use), converts rows with the service's toRecord and
 * answers JSON. JSON-RPC over WebSocket too, on the same port: each text frame
 * goes to the same handler as a POST body and its reply is sent as a frame.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'pg';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { DomainError, DomainErrorCode } from '../src/common/domain.error';
import { CUSTOM_PLANS_OPTION, namingClient, type PreparedStatements } from '../src/database/prepared-statements';
import { toRecord } from '../src/js-result/js-result.record';
import { authoriseWorkers, grantsNothing } from '../src/js-result/js-result.access';
import { MAX_PAGE_SIZE, parsePageQuery, parseQuery } from '../src/js-result/js-result.params';
import { cursorBinding, PageCursors } from '../src/js-result/page-cursor';
import type { RowsStatements } from './rows-statements';
import { WorkerNamesCache } from '../src/js-result/worker-names.cache';
import { parseJson, stringifyJson } from '../src/json-rpc/json-rpc.codec';
import type { Auth } from '../src/token/auth';
import { readTokenLimits, type TokenLimit } from '../src/token/token-limit';
import { parseCredentials } from '../src/common/credentials';
import { secretMatches, UNKNOWN_KEY_HASH } from '../src/token/token.secrets';
import { ACTION_OF, type CallMethod, openBenchStatements, statementForCall } from './call-sql';

export interface BareServerOptions {
  databaseUrl: string;
  poolSize: number;
  host?: string;
  port?: number;
  statementTimeoutMs?: number;
  tokenCacheTtlMs?: number;
}

export interface BareServer {
  port: number;
  close(): Promise<void>;
}

interface TokenRow {
  id: string;
  token_hash: string;
  token_limit: unknown;
  username: string | null;
  timestamp_from: string | null;
  timestamp_to: string | null;
}

interface CachedToken {
  row: TokenRow;
  limits: TokenLimit[];
  fetchedAt: number;
}

const METHODS = new Set<string>(['js-result_query', 'js-result_delete', 'js-result_page']);
const PARAM_NAMES = ['token', 'query'];

const ERROR_CODES: Record<DomainErrorCode, [number, string]> = {
  [DomainErrorCode.InvalidParams]: [-32602, 'Invalid params'],
  [DomainErrorCode.MalformedToken]: [101, 'Parse error'],
  [DomainErrorCode.InvalidCredentials]: [102, 'Permission denied'],
  [DomainErrorCode.PermissionDenied]: [102, 'Permission denied'],
  [DomainErrorCode.DatabaseUnavailable]: [103, 'Database error'],
  [DomainErrorCode.NotAcceptable]: [108, 'Invalid input'],
  [DomainErrorCode.NotFound]: [105, 'Not found'],
  [DomainErrorCode.NotFoundInDatabase]: [105, 'Not found in database'],
  [DomainErrorCode.ResponseTooLarge]: [108, 'Invalid input'],
  [DomainErrorCode.TooManyLogins]: [102, 'Permission denied'],
  [DomainErrorCode.InvalidCronExpression]: [101, 'Parse error'],
};

class RpcFailure extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

function errorObject(error: unknown): { code: number; message: string } {
  if (error instanceof RpcFailure) return { code: error.code, message: error.message };
  if (error instanceof DomainError) {
    const [code, prefix] = ERROR_CODES[error.code];
    return { code, message: `${prefix}: ${error.message}` };
  }
  if ((error as { code?: unknown })?.code !== undefined) return { code: 103, message: 'Database error' };
  return { code: -32603, message: 'Internal error' };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * `pool` runs the texts `statements` builds; a pool from createPool with the
 * same registry names them, as the service's pool does (a hand-written
 * handler would prepare its few statements too).
 */
export function createBareHandler(
  pool: Pool,
  statements: RowsStatements,
  tokenCacheTtlMs: number,
  workerNamesCacheTtlMs = tokenCacheTtlMs,
) {
  const tokens = new Map<string, CachedToken>();
  // The same names cache as the service, with the same lookup and lifetime.
  const workerNames = new WorkerNamesCache(async (prefixes) => {
    const { text, values } = statements.workerNames(prefixes);
    return (await pool.query<{ name: string }>(text, values)).rows.map((row) => row.name);
  }, workerNamesCacheTtlMs);

  async function lookupToken(key: string): Promise<CachedToken | undefined> {
    const cached = tokens.get(key);
    if (cached && Date.now() - cached.fetchedAt < tokenCacheTtlMs) return cached;
    const { rows } = await pool.query<TokenRow>(
      'SELECT id, token_hash, token_limit, username, timestamp_from, timestamp_to FROM token WHERE token_key = $1',
      [key],
    );
    if (rows.length === 0) {
      tokens.delete(key);
      return undefined;
    }
    const entry = { row: rows[0], limits: readTokenLimits(rows[0].token_limit), fetchedAt: Date.now() };
    tokens.set(key, entry);
    return entry;
  }

  async function authenticate(tokenParam: string): Promise<Auth> {
    const credentials = parseCredentials(tokenParam);
    // Accounts (username|password) are not part of the benchmark.
    if (credentials.mode !== 'token') throw new DomainError(DomainErrorCode.InvalidCredentials, 'Invalid credentials');
    const entry = await lookupToken(credentials.key);
    const matches = secretMatches(credentials.secret, entry?.row.token_hash ?? UNKNOWN_KEY_HASH);
    if (!entry || !matches) throw new DomainError(DomainErrorCode.InvalidCredentials, 'Invalid credentials');
    const { row } = entry;
    if (row.id === '1' && row.username === 'root') return { kind: 'super', tokenId: 1, tokenKey: credentials.key };
    const now = Date.now();
    const outside =
      (row.timestamp_from !== null && now < Number(row.timestamp_from)) ||
      (row.timestamp_to !== null && now > Number(row.timestamp_to));
    return { kind: 'limited', tokenId: Number(row.id), tokenKey: credentials.key, limits: outside ? [] : entry.limits };
  }

  let cursors: Promise<PageCursors> | undefined;
  // The key the service signs page cursors with, so a cursor of either is valid for both (same contract).
  const pageCursors = () =>
    (cursors ??= pool
      .query<{ value: string }>("SELECT value FROM server_secret WHERE name = 'page_cursor_key'")
      .then((result) => new PageCursors(result.rows[0].value)));

  /** js-result_page as a hand-written server would answer it: the page's rows + 1, keyset after the cursor's position. */
  async function page(params: Record<string, unknown>): Promise<unknown> {
    const selection = parsePageQuery(params.query);
    const pageSize = params.page_size ?? 100;
    if (typeof pageSize !== 'number' || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
      throw new RpcFailure(-32602, 'Invalid params: page_size');
    }
    const auth = await authenticate(String(params.token));
    const binding = cursorBinding(auth.tokenKey, selection.conditionsText);
    const signer = await pageCursors();
    const after = params.cursor === undefined || params.cursor === null ? undefined : signer.read(String(params.cursor), binding);
    const access = authoriseWorkers(selection, auth, 'read');
    if (grantsNothing(access)) return { items: [], next_cursor: null };
    const { text, values } = statements.pageRows(selection.filters, access, after, pageSize + 1);
    const rows = (await pool.query<Record<string, unknown>>(text, values)).rows;
    const last = rows.length > pageSize ? rows[pageSize - 1] : undefined;
    const next = last === undefined ? null : signer.issue({ startTime: last.start_time === null ? null : String(last.start_time), id: String(last.id) }, binding);
    return { items: rows.slice(0, pageSize).map((row) => toRecord(row as never)), next_cursor: next };
  }

  async function invoke(method: CallMethod, params: Record<string, unknown>): Promise<unknown> {
    if (method === 'js-result_page') return page(params);
    const selection = parseQuery(params.query);
    const token = String(params.token);
    const auth = await authenticate(token);
    const access = authoriseWorkers(selection, auth, ACTION_OF[method]);
    const outcome = (deleted: number) => ({ success: true, deleted, condition_count: selection.conditionCount });
    if (grantsNothing(access)) return method === 'js-result_query' ? [] : outcome(0);
    const resolvesNames = method === 'js-result_query' && access.kind === 'patterns' && access.prefixes.length > 0;
    const prefixed = resolvesNames ? await workerNames.under(access.prefixes) : [];
    const action = { origin: 'rpc' as const, tokenKey: auth.tokenKey, method, params };
    const statement = statementForCall(statements, method, selection, access, prefixed, 'rows', action);
    if (statement === undefined) return [];
    const result = await pool.query(statement.text, statement.values);
    return method === 'js-result_query' ? result.rows.map(toRecord) : outcome(Number(result.rows[0].affected));
  }

  async function handleOne(request: unknown): Promise<object | undefined> {
    const id = isRecord(request) && 'id' in request ? request.id : undefined;
    try {
      if (!isRecord(request) || request.jsonrpc !== '2.0' || typeof request.method !== 'string') {
        throw new RpcFailure(-32600, 'Invalid Request');
      }
      if (!METHODS.has(request.method)) throw new RpcFailure(-32601, `Method not found: ${request.method}`);
      const raw = request.params ?? {};
      const params = Array.isArray(raw) ? Object.fromEntries(raw.map((v, i) => [PARAM_NAMES[i] ?? `_${i}`, v])) : raw;
      if (!isRecord(params)) throw new RpcFailure(-32600, 'Invalid Request');
      const result = await invoke(request.method as CallMethod, params);
      return id === undefined ? undefined : { jsonrpc: '2.0', id, result };
    } catch (error) {
      return id === undefined && isRecord(request) ? undefined : { jsonrpc: '2.0', id: id ?? null, error: errorObject(error) };
    }
  }

  /** The reply body for a request body, or undefined when nothing is to be answered. */
  return async function handle(body: string): Promise<string | undefined> {
    let payload: unknown;
    try {
      payload = parseJson(body);
    } catch {
      return stringifyJson({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
    }
    if (!Array.isArray(payload)) {
      const reply = await handleOne(payload);
      return reply && stringifyJson(reply);
    }
    const replies = (await Promise.all(payload.map(handleOne))).filter((r) => r !== undefined);
    return replies.length > 0 ? stringifyJson(replies) : undefined;
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** What the service answers when its dispatcher itself fails (it never should). */
const INTERNAL_ERROR_REPLY = '{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"Internal error"}}';
/** As the service's WebSocket frames and HTTP bodies. */
const MAX_FRAME_BYTES = 4 * 1024 * 1024;

function frameText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}

/**
 * JSON-RPC over WebSocket on the HTTP server, as a user would add it with ws:
 * upgrades on any path (as POSTs are taken on any path), no compression (as
 * the service), every frame handed to `handle` at once and its reply sent as
 * a text frame when ready, so replies go out in the order calls finish.
 */
function attachWebSocket(server: Server, handle: (body: string) => Promise<string | undefined>): WebSocketServer {
  const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: MAX_FRAME_BYTES });
  wss.on('connection', (socket) => {
    socket.on('error', () => undefined);
    socket.on('message', (data) => {
      handle(frameText(data))
        .catch(() => INTERNAL_ERROR_REPLY)
        .then((reply) => {
          if (reply !== undefined && socket.readyState === WebSocket.OPEN) socket.send(reply);
        });
    });
  });
  return wss;
}

/**
 * Same pool settings as the service's TypeORM options (size, statement
 * timeout, custom plans, keep-alive, idle timeout, the texts in `registry`
 * sent as named statements).
 */
export function createPool(options: BareServerOptions, registry: PreparedStatements): Pool {
  return new Pool({
    Client: namingClient(registry),
    connectionString: options.databaseUrl,
    max: options.poolSize,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    statement_timeout: options.statementTimeoutMs ?? 10_000,
    options: CUSTOM_PLANS_OPTION,
    application_name: 'jsr-bench-bare',
  });
}

export async function startBareServer(options: BareServerOptions): Promise<BareServer> {
  const builder = await openBenchStatements(options.databaseUrl);
  const pool = createPool(options, builder.registry);
  const handle = createBareHandler(pool, builder.statements, options.tokenCacheTtlMs ?? 1_000);
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/health') {
      pool.query('SELECT 1').then(
        () => send(res, 200, '{"status":"ok"}'),
        () => send(res, 503, '{"status":"error"}'),
      );
      return;
    }
    if (req.method !== 'POST') return send(res, 404, '{}');
    readBody(req)
      .then(handle)
      .then(
        (reply) => (reply === undefined ? (res.writeHead(204), res.end()) : send(res, 200, reply)),
        () => send(res, 500, '{}'),
      );
  });
  server.keepAliveTimeout = 65_000;
  const wss = attachWebSocket(server, handle);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      // Upgraded sockets are no longer the HTTP server's: they are closed here, or close() would wait for them.
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
      await builder.close();
    },
  };
}

/** Run as a child process by the benchmark: `node dist-tools/bench/bare-server.js` with DATABASE_URL, PORT, DB_POOL_SIZE. */
if (require.main === module) {
  const port = Number(process.env.PORT ?? 0);
  startBareServer({
    databaseUrl: process.env.DATABASE_URL ?? '',
    poolSize: Number(process.env.DB_POOL_SIZE ?? 10),
    host: process.env.HOST ?? '127.0.0.1',
    port,
  }).then(
    (server) => {
      process.stdout.write(`bare server listening on ${server.port}\n`);
      const stop = () => void server.close().then(() => process.exit(0));
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    },
    (err: unknown) => {
      process.stderr.write(`bare server failed: ${String(err)}\n`);
      process.exit(1);
    },
  );
}
