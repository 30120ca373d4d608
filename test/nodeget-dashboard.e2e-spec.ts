import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HELLO, NODEGET_API_VERSION } from '../src/nodeget-server/nodeget-server.service';
import { b64 } from './support/js-worker.helpers';
import { countRows, seed, startTestApp, type TestApp } from './support/test-app';
import { backendName, createTestDatabase, type TestDatabase } from './support/test-database';
import { closeAllClients, WsRpcClient, wsUrl } from './support/ws-client';

/**
 * NodeGet's official dashboard (NodeSeekDev/NodeGet-board at commit
 * 1dff2aa308d5, 2026-05-19), replayed: its calls as its composables make
 * them (src/composables/useWsConnection.ts, useJsRuntime.ts, useBackendExtra.ts,
 * useLifecycle.ts, token/*, stores/permission, pages/dashboard/js-runtime/[id].vue),
 * over its transport: one WebSocket to `/`, JSON-RPC 2.0 with UUID string ids,
 * named params (or `[]`), and `nodeget-server_hello` as a heartbeat that
 * closes the connection when it fails.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The dashboard's generatePassword alphabet (src/lib/password.ts); it has `:` and `|`. */
const PASSWORD_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@#$%^&*()-_=+[]{}|;:,.<>?';

/** A password from that alphabet that has both separators, as about 3 in 10 of the dashboard's do. */
function generatedPassword(length = 16): string {
  const chars = Array.from({ length: length - 2 }, () => PASSWORD_ALPHABET[Math.floor(Math.random() * PASSWORD_ALPHABET.length)]);
  chars.splice(3, 0, ':');
  chars.splice(9, 0, '|');
  return chars.join('');
}

/** The visitor template's permissions (src/components/token/tokenTemplates.ts). */
const VISITOR_TEMPLATE_PERMISSIONS = [
  { static_monitoring: { read: 'cpu' } },
  { static_monitoring: { read: 'system' } },
  { static_monitoring: { read: 'gpu' } },
  { dynamic_monitoring_summary: 'read' },
  { node_get: 'list_all_agent_uuid' },
  { task: { read: 'ping' } },
  { task: { read: 'tcp_ping' } },
  { kv: { read: 'metadata_*' } },
];

/** How the dashboard turns an error object into the Error it rejects with (formatRpcError). */
function formatRpcError(error: { message?: unknown; data?: unknown }): string {
  return [error.message, error.data].filter(Boolean).map(String).join(' | ');
}

class RpcError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** The dashboard's WsConnection: calls by UUID id, replies matched by id, a heartbeat that closes the socket when it fails. */
class DashboardConnection {
  heartbeats = 0;
  heartbeatFailures = 0;
  readonly unmatched: unknown[] = [];
  private readonly pending = new Map<string, { resolve: (value: any) => void; reject: (error: Error) => void; method: string }>();
  private heartbeat?: NodeJS.Timeout;

  private constructor(readonly client: WsRpcClient) {
    client.socket.on('message', (data) => {
      const parsed = JSON.parse(data.toString());
      for (const message of Array.isArray(parsed) ? parsed : [parsed]) this.handle(message);
    });
    void client.closed.then(() => {
      clearInterval(this.heartbeat);
      for (const [id, request] of this.pending) {
        request.reject(new Error(`${request.method} connection closed`));
        this.pending.delete(id);
      }
    });
  }

  static async open(url: string, heartbeatMs = 30_000): Promise<DashboardConnection> {
    const connection = new DashboardConnection(await WsRpcClient.connect(url));
    connection.heartbeat = setInterval(() => {
      connection.call('nodeget-server_hello', []).then(
        (reply) => {
          if (reply === HELLO) connection.heartbeats++;
          else connection.heartbeatFailures++;
        },
        () => {
          connection.heartbeatFailures++;
          connection.client.socket.close();
        },
      );
    }, heartbeatMs);
    return connection;
  }

  get open(): boolean {
    return this.client.socket.readyState === this.client.socket.OPEN;
  }

  /** As the browser sends it: JSON.stringify drops the params the dashboard left undefined. */
  call<T = any>(method: string, params: unknown): Promise<T> {
    // The dashboard would reconnect; here a dropped connection is a failure to report, not to wait out.
    if (!this.open) return Promise.reject(new Error(`${method}: the connection is closed`));
    return new Promise<T>((resolve, reject) => {
      const id = randomUUID();
      this.pending.set(id, { resolve, reject, method });
      this.client.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  close(): Promise<void> {
    clearInterval(this.heartbeat);
    return this.client.close();
  }

  private handle(message: { id?: unknown; result?: any; error?: { code: number; message?: unknown; data?: unknown } }): void {
    // The dashboard matches replies by its UUID string ids; anything else would be dropped by it.
    if (typeof message.id !== 'string') this.unmatched.push(message);
    const request = this.pending.get(message.id as string);
    if (!request) return;
    this.pending.delete(message.id as string);
    if (message.error) {
      request.reject(new RpcError(message.error.code, formatRpcError(message.error) || `${request.method} rpc error`));
    } else if (message.result && typeof message.result === 'object' && !Array.isArray(message.result) && 'error_message' in message.result && message.result.error_message !== null) {
      // The dashboard treats a result carrying an error_message as a failure.
      request.reject(new Error(String(message.result.error_message)));
    } else {
      request.resolve(message.result);
    }
  }
}

/** Room for a loaded CI machine: a heartbeat late by more than this would drop the connection. */
const IDLE_TIMEOUT_MS = 3_000;
const HEARTBEAT_MS = 200;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const SCRIPT = `export default {
  onCall(params, env, ctx) { return { mode: 'call', params, region: env.REGION ?? null, run_type: ctx.run_type }; },
  onCron(params, env, ctx) { return { mode: 'cron', params, run_type: ctx.run_type }; },
  async onRoute(request) {
    const seen = { method: request.method, url: request.url, a: request.headers.get('a'), body: await request.text() };
    return new Response(JSON.stringify(seen), { status: 202, headers: { 'content-type': 'application/json' } });
  },
}`;

describe(`NodeGet's dashboard, replayed (${backendName})`, () => {
  let t: TestApp;
  let dashboard: DashboardConnection;
  let token: string;

  beforeAll(async () => {
    // The dashboard's 30 s heartbeat and the server's idle timeout, both scaled down: between flows only the heartbeat keeps it connected.
    t = await startTestApp({ wsIdleTimeoutMs: IDLE_TIMEOUT_MS });
    await t.app.listen(0, '127.0.0.1');
    token = t.superToken;
    dashboard = await DashboardConnection.open(wsUrl(t.app, '/'), HEARTBEAT_MS);
  });

  afterAll(async () => {
    await dashboard?.close();
    await closeAllClients();
    await t.close();
  });

  /** js-result_query as getWorkerLogs sends it. */
  const workerLogs = (condition: unknown[]) => dashboard.call<any[]>('js-result_query', { token, query: { condition } });

  /** pollResult / poolingWorkerLogs: the record by id until it has finished. */
  async function finished(id: number): Promise<any> {
    for (let i = 0; i < 200; i++) {
      const [record] = await workerLogs([{ id }, { last: null }]);
      if (record?.finish_time) return record;
      await sleep(25);
    }
    throw new Error(`js_result ${id} did not finish`);
  }

  /** getWorker, which reads create_at / update_at / route_name / runtime_clean_time. */
  const readWorker = (name: string) => dashboard.call<any>('js-worker_read', { token, name });

  describe('heartbeat', () => {
    it('stays connected past several heartbeats, each answered "NodeGet Server Is Running!"', async () => {
      const beating = await DashboardConnection.open(wsUrl(t.app, '/'), HEARTBEAT_MS);
      const quiet = await WsRpcClient.connect(wsUrl(t.app, '/'));
      await sleep(IDLE_TIMEOUT_MS + 500);
      expect(beating.heartbeatFailures).toBe(0);
      expect(beating.heartbeats).toBeGreaterThanOrEqual(6);
      expect(beating.open).toBe(true);
      // A connection without a heartbeat was closed by the idle timeout meanwhile, so the heartbeat is what kept the other.
      expect((await quiet.closed).reason).toBe('idle timeout');
      expect(await beating.call('js-worker_list_all_js_worker', { token })).toEqual(expect.any(Array));
      await beating.close();
    });

    it('answers hello, version and uuid with params [], {} or none, and no token', async () => {
      for (const params of [[], {}, undefined]) {
        expect(await dashboard.call('nodeget-server_hello', params)).toBe(HELLO);
        expect((await dashboard.call('nodeget-server_version', params)).binary_type).toBe('Server');
        expect(await dashboard.call('nodeget-server_uuid', params)).toMatch(UUID);
      }
    });
  });

  describe('startup', () => {
    it('reads the token (permission store), the version and the uuid as the dashboard does', async () => {
      const [info, version, uuid] = await Promise.all([
        dashboard.call('token_get', { token }),
        dashboard.call('nodeget-server_version', []),
        dashboard.call('nodeget-server_uuid', []),
      ]);
      expect(info).toMatchObject({ username: 'root', token_key: token.split(':')[0] });
      expect(version).toEqual({
        binary_type: 'Server',
        cargo_version: NODEGET_API_VERSION,
        git_branch: '',
        git_commit_sha: '',
        git_commit_date: '',
        git_commit_message: '',
        build_time: '',
        cargo_target_triple: '',
        rustc_channel: '',
        rustc_version: '',
        rustc_commit_date: '',
        rustc_commit_hash: '',
        rustc_llvm_version: '',
        service_name: 'js-result-service',
        service_version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      });
      const [stored] = await t.dataSource.query("SELECT value FROM server_secret WHERE name = 'server_uuid'");
      expect(uuid).toBe(stored.value);
      expect(uuid).toMatch(UUID);
    });

    it('lists no agent uuids for any valid token, and refuses bad credentials with 101/102', async () => {
      const nothingGranted = await t.token([]);
      expect(await dashboard.call('nodeget-server_list_all_agent_uuid', { token })).toEqual({ uuids: [] });
      expect(await dashboard.call('nodeget-server_list_all_agent_uuid', { token: nothingGranted })).toEqual({ uuids: [] });
      await expect(dashboard.call('nodeget-server_list_all_agent_uuid', { token: 'garbage' })).rejects.toMatchObject({ code: 101 });
      await expect(dashboard.call('nodeget-server_list_all_agent_uuid', { token: `${token.split(':')[0]}:wrong` })).rejects.toMatchObject({
        code: 102,
      });
      await expect(dashboard.call('nodeget-server_list_all_agent_uuid', {})).rejects.toMatchObject({ code: -32602 });
    });
  });

  describe('workers', () => {
    it('creates, lists, reads, updates with a route and cleanup time, and runs in call and cron mode', async () => {
      // addWorkerFun: runtimeCleanTime 120000, no route, env or description (undefined: not sent).
      const created = await dashboard.call('js-worker_create', {
        token,
        name: 'dash_worker',
        js_script_base64: b64(SCRIPT),
        route_name: undefined,
        runtime_clean_time: 120_000,
        env: undefined,
        description: undefined,
      });
      expect(created).toEqual({
        id: expect.any(Number),
        name: 'dash_worker',
        description: null,
        route_name: null,
        runtime_clean_time: 120_000,
        max_run_time: 30_000,
        max_stack_size: 1024 * 1024,
        max_heap_size: 8 * 1024 * 1024,
        create_at: expect.any(Number),
        update_at: expect.any(Number),
      });
      expect(await dashboard.call('js-worker_list_all_js_worker', { token })).toContain('dash_worker');

      const read = await readWorker('dash_worker');
      expect(read).toEqual({ ...created, js_script_base64: b64(SCRIPT), env: {} });
      expect(Math.abs(read.create_at - Date.now())).toBeLessThan(60_000);

      // updateWorkerSettingsFun: the whole form, `route` renamed route_name, `content` sent as js_script_base64.
      await sleep(5);
      const updated = await dashboard.call('js-worker_update', {
        token,
        name: 'dash_worker',
        route_name: 'dash-route.v1',
        runtime_clean_time: 60_000,
        env: { REGION: 'eu' },
        description: '',
        max_run_time: 30_000,
        max_stack_size: 1024 * 1024,
        max_heap_size: 8 * 1024 * 1024,
        js_script_base64: b64(SCRIPT),
      });
      expect(updated).toMatchObject({ success: true, name: 'dash_worker', route_name: 'dash-route.v1', runtime_clean_time: 60_000 });
      const after = await readWorker('dash_worker');
      expect(after).toMatchObject({ route_name: 'dash-route.v1', runtime_clean_time: 60_000, env: { REGION: 'eu' }, description: '' });
      expect(after.update_at).toBeGreaterThan(read.update_at);
      expect(after.create_at).toBe(read.create_at);

      // runWorkerFun, call and cron mode, with the run env and compile_mode "source"; then pollResult.
      const call = await dashboard.call<{ id: number }>('js-worker_run', {
        token,
        js_script_name: 'dash_worker',
        run_type: 'call',
        params: { who: 'dash' },
        env: { REGION: 'us' },
        compile_mode: 'source',
      });
      expect((await finished(call.id)).result).toEqual({ mode: 'call', params: { who: 'dash' }, region: 'us', run_type: 'call' });
      const cron = await dashboard.call<{ id: number }>('js-worker_run', {
        token,
        js_script_name: 'dash_worker',
        run_type: 'cron',
        params: {},
        env: {},
        compile_mode: 'source',
      });
      expect(await finished(cron.id)).toMatchObject({ run_type: 'cron', result: { mode: 'cron', params: {}, run_type: 'cron' } });
    });

    it('runs the HTTP simulation (run_type "route") as the dashboard sends it, and stores the Response as NodeGet does', async () => {
      // [id].vue's runWorker in "http" mode: the body as body_bytes, headers as {name, value}.
      const run = await dashboard.call<{ id: number }>('js-worker_run', {
        token,
        js_script_name: 'dash_worker',
        run_type: 'route',
        params: {
          url: 'https://mock.local/worker-route/dash-route.v1/x',
          method: 'POST',
          headers: [{ name: 'a', value: 'b' }],
          body_bytes: Array.from(Buffer.from('hé')),
        },
        compile_mode: 'source',
      });
      const record = await finished(run.id);
      expect(record).toMatchObject({ run_type: 'route', error_message: null, result: { status: 202 } });
      expect(record.result.headers).toContainEqual({ name: 'content-type', value: 'application/json' });
      expect(JSON.parse(Buffer.from(record.result.body_base64, 'base64').toString('utf8'))).toEqual({
        method: 'POST',
        url: 'https://mock.local/worker-route/dash-route.v1/x',
        a: 'b',
        body: 'hé',
      });
    });

    it('finds "js_worker not found" in the error of a missing worker, and then creates and runs its base worker', async () => {
      // useLifecycle.afterServerCreate
      const missing = await readWorker('base-worker').catch((error: Error) => error);
      expect(missing).toBeInstanceOf(RpcError);
      expect((missing as RpcError).code).toBe(105);
      expect((missing as RpcError).message).toBe('Not found in database: js_worker not found: base-worker');
      expect((missing as RpcError).message.indexOf('js_worker not found')).not.toBe(-1);
      await dashboard.call('js-worker_create', {
        token,
        name: 'base-worker',
        js_script_base64: b64(SCRIPT),
        env: { token, resource_url: 'https://bootstrap.example' },
      });
      const run = await dashboard.call<{ id: number }>('js-worker_run', { token, js_script_name: 'base-worker', run_type: 'call', params: { lifecycle: 'server-create' } });
      expect((await finished(run.id)).result.params).toEqual({ lifecycle: 'server-create' });
      for (const method of ['js-worker_update', 'js-worker_delete', 'js-worker_run']) {
        const params = method === 'js-worker_run' ? { token, js_script_name: 'no_such' } : { token, name: 'no_such', description: 'x' };
        await expect(dashboard.call(method, params)).rejects.toMatchObject({ code: 105, message: 'Not found in database: js_worker not found: no_such' });
      }
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['a route name with a slash', { route_name: '../etc' }, 'Invalid input: route_name can only contain [a-zA-Z0-9._-]'],
      ['a route name of dots only', { route_name: '...' }, "Invalid input: route_name cannot be '.' or '..'"],
      ['a route name of 129 characters', { route_name: 'r'.repeat(129) }, 'Invalid input: route_name too long (max 128 chars)'],
      ['an empty route name', { route_name: ' ' }, 'Invalid input: route_name cannot be empty string'],
      ['a cleanup time of 0', { runtime_clean_time: 0 }, 'Invalid input: runtime_clean_time: must be a positive integer'],
      ['a negative cleanup time', { runtime_clean_time: -1 }, 'Invalid input: runtime_clean_time: must be a positive integer'],
      ['a route name another worker has', { route_name: 'dash-route.v1' }, 'Invalid input: route_name already exists: dash-route.v1'],
    ])('refuses %s with 108 and stores nothing', async (_label, bad, message) => {
      const workersBefore = await t.dataSource.query('SELECT * FROM js_worker ORDER BY id');
      const create = dashboard.call('js-worker_create', { token, name: 'dash_refused', js_script_base64: b64(SCRIPT), ...bad });
      await expect(create).rejects.toMatchObject({ code: 108, message: expect.stringContaining(message) });
      await dashboard.call('js-worker_create', { token, name: 'dash_other', js_script_base64: b64(SCRIPT), route_name: 'other-route', runtime_clean_time: 5 });
      const other = await readWorker('dash_other');
      const workersWithOther = await t.dataSource.query('SELECT * FROM js_worker ORDER BY id');
      const update = dashboard.call('js-worker_update', { token, name: 'dash_other', description: 'changed', ...bad });
      await expect(update).rejects.toMatchObject({ code: 108, message: expect.stringContaining(message) });
      expect(await readWorker('dash_other')).toEqual(other);
      expect(await t.dataSource.query('SELECT * FROM js_worker ORDER BY id')).toEqual(workersWithOther);
      await dashboard.call('js-worker_delete', { token, name: 'dash_other' });
      expect(await t.dataSource.query('SELECT * FROM js_worker ORDER BY id')).toEqual(workersBefore);
    });

    it('clears a route name with null, and keeps it when an update leaves it out', async () => {
      await dashboard.call('js-worker_create', { token, name: 'dash_route', js_script_base64: b64(SCRIPT), route_name: 'kept' });
      await dashboard.call('js-worker_update', { token, name: 'dash_route', description: 'd' });
      expect((await readWorker('dash_route')).route_name).toBe('kept');
      await dashboard.call('js-worker_update', { token, name: 'dash_route', route_name: null, runtime_clean_time: null });
      expect(await readWorker('dash_route')).toMatchObject({ route_name: null, runtime_clean_time: null });
      // Free again: another worker may take it.
      await dashboard.call('js-worker_update', { token, name: 'dash_worker', route_name: 'kept' });
      expect((await readWorker('dash_worker')).route_name).toBe('kept');
    });
  });

  describe('logs', () => {
    let ids: number[];

    beforeAll(async () => {
      const rows = await seed(t.dataSource, [
        { jsWorkerName: 'dash_logs', runType: 'call', startTime: 1_000, finishTime: 1_001, result: 1 },
        { jsWorkerName: 'dash_logs', runType: 'cron', startTime: 2_000, finishTime: 2_001, result: 2 },
        { jsWorkerName: 'dash_logs', runType: 'call', startTime: 3_000, finishTime: 3_001, errorMessage: 'boom' },
        { jsWorkerName: 'dash_logs', runType: 'cron', startTime: 4_000, finishTime: 4_001, result: 4 },
        { jsWorkerName: 'dash_elsewhere', runType: 'call', startTime: 5_000, finishTime: 5_001, result: 5 },
      ]);
      ids = rows.map((row) => Number(row.id));
    });

    /** loadLogsFun: the worker, the limit, then id, latest only and run type as the filters are set. */
    function logsCondition(filter: { id?: number; latestOnly?: boolean; runType?: string; limit?: number }): unknown[] {
      const condition: unknown[] = [{ js_worker_name: 'dash_logs' }, { limit: Math.max(1, filter.limit || 20) }];
      if (filter.id) condition.push({ id: filter.id });
      if (filter.latestOnly) condition.push({ last: null });
      if (filter.runType) condition.push({ run_type: filter.runType });
      return condition;
    }

    it.each<[string, { id?: number; latestOnly?: boolean; runType?: string; limit?: number }, number[]]>([
      ['no filter', {}, [3, 2, 1, 0]],
      ['a limit', { limit: 2 }, [3, 2]],
      ['latest only', { latestOnly: true }, [3]],
      ['a run type', { runType: 'call' }, [2, 0]],
      ['a run type, latest only', { runType: 'call', latestOnly: true }, [2]],
      ['an id', { id: -1 }, [1]],
      ['an id of another worker', { id: -2 }, []],
    ])('filters by %s', async (_label, filter, expected) => {
      const id = filter.id === -1 ? ids[1] : filter.id === -2 ? ids[4] : undefined;
      const records = await workerLogs(logsCondition({ ...filter, id }));
      expect(records.map((r) => r.id)).toEqual(expected.map((i) => ids[i]));
      // "failed" is the dashboard's own filter over what it got.
      expect(records.filter((r) => r.error_message).map((r) => r.id)).toEqual(expected.filter((i) => i === 2).map((i) => ids[i]));
    });
  });

  describe('cron pages', () => {
    const cronType = { server: { js_worker: ['dash_cron_worker', { from: 'dashboard' }] } };
    /** useCron's list, as backendToTask reads it. */
    const listJobs = () => dashboard.call<any[]>('crontab_get', { token });
    /** The history page's buildCondition: the job, the limit, then id, time range, status and latest only. */
    const history = (extra: unknown[]) =>
      dashboard.call<any[]>('crontab-result_query', { token, query: { condition: [{ cron_name: 'dash_cron' }, { limit: 20 }, ...extra] } });

    beforeAll(async () => {
      await dashboard.call('js-worker_create', { token, name: 'dash_cron_worker', js_script_base64: b64(SCRIPT) });
    });

    it('creates a worker job, lists it, fires it, reads its history with the page filters, disables, edits and deletes it', async () => {
      const created = await dashboard.call<{ id: number }>('crontab_create', { token, name: 'dash_cron', cron_expression: '* * * * * *', cron_type: cronType });
      expect(created).toEqual({ id: expect.any(Number) });
      expect((await listJobs()).find((job) => job.name === 'dash_cron')).toEqual({
        id: created.id,
        name: 'dash_cron',
        enable: true,
        cron_expression: '* * * * * *',
        cron_type: cronType,
        last_run_time: null,
      });

      let records: any[] = [];
      for (let i = 0; i < 200 && records.length === 0; i++) {
        records = (await history([{ is_success: null }])).filter((record) => record.relative_id !== null);
        if (records.length === 0) await sleep(25);
      }
      const [record] = records;
      expect(record).toMatchObject({ cron_id: created.id, cron_name: 'dash_cron', success: true, run_time: expect.any(Number) });
      const run = await finished(record.relative_id);
      expect(run).toMatchObject({ js_worker_name: 'dash_cron_worker', run_type: 'cron', result: { mode: 'cron', params: { from: 'dashboard' } } });

      expect(await dashboard.call('crontab_set_enable', { token, name: 'dash_cron', enable: false })).toEqual({ success: true, enabled: false });
      expect((await listJobs()).find((job) => job.name === 'dash_cron')).toMatchObject({ enable: false, last_run_time: expect.any(Number) });

      const latest = await history([{ last: null }]);
      expect(latest).toHaveLength(1);
      expect(await history([{ id: record.id }])).toEqual([record]);
      expect((await history([{ run_time_from_to: [record.run_time, record.run_time] }])).map((r) => r.id)).toContain(record.id);
      // The page's "failed" filter sends {"is_success": false}, which NodeGet refuses too.
      await expect(history([{ is_success: false }])).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('condition[2]') });

      const edited = await dashboard.call('crontab_edit', { token, name: 'dash_cron', cron_expression: '0 0 * * * *', cron_type: cronType });
      expect(edited).toEqual({ id: created.id, success: true });
      expect(await dashboard.call('crontab_delete', { token, name: 'dash_cron' })).toEqual({ success: true });
      expect((await listJobs()).map((job) => job.name)).not.toContain('dash_cron');
    });
  });

  describe("flags in NodeGet's map form, in every method that takes conditions", () => {
    const q = (condition: unknown[]) => ({ token, query: { condition } });

    it('mean the same as the bare strings', async () => {
      for (const [mapForm, bare] of [
        [[{ js_worker_name: 'dash_logs' }, { last: null }], [{ js_worker_name: 'dash_logs' }, 'last']],
        [[{ js_worker_name: 'dash_logs' }, { is_success: null }], [{ js_worker_name: 'dash_logs' }, 'is_success']],
        [[{ js_worker_name: 'dash_logs' }, { is_failure: null }], [{ js_worker_name: 'dash_logs' }, 'is_failure']],
        [[{ js_worker_name: 'dash_logs' }, { is_running: null }], [{ js_worker_name: 'dash_logs' }, 'is_running']],
      ]) {
        expect(await dashboard.call('js-result_query', q(mapForm))).toEqual(await dashboard.call('js-result_query', q(bare)));
        expect(await dashboard.call('js-result_count', q(mapForm))).toEqual(await dashboard.call('js-result_count', q(bare)));
      }
      expect((await dashboard.call('js-result_count', q([{ js_worker_name: 'dash_logs' }, { is_failure: null }]))).count).toBe(1);
      const page = await dashboard.call('js-result_page', q([{ js_worker_name: 'dash_logs' }, { is_success: null }]));
      expect(page.items).toHaveLength(3);
      expect(await dashboard.call('js-result_delete', q([{ js_worker_name: 'dash_elsewhere' }, { is_success: null }, { last: null }]))).toEqual({
        success: true,
        deleted: 1,
        condition_count: 3,
      });
    });

    it('name the position of a map-form last where no cap is allowed', async () => {
      await expect(dashboard.call('js-result_page', q([{ js_worker_name: 'dash_logs' }, { last: null }]))).rejects.toMatchObject({
        code: -32602,
        message: expect.stringContaining('query.condition[1]: limit and last are not allowed in js-result_page'),
      });
      await expect(dashboard.call('js-result_subscribe', q(['is_success', { last: null }]))).rejects.toMatchObject({
        code: -32602,
        message: expect.stringContaining('query.condition[1]: "last" does not apply to a subscription'),
      });
    });

    it.each<[unknown[], string]>([
      [[{ last: 1 }], 'query.condition[0]: "last" is a flag and takes no value'],
      [[{ js_worker_name: 'dash_logs' }, { is_success: false }], 'query.condition[1]: "is_success" is a flag and takes no value'],
      [['is_running', { is_failure: {} }], 'query.condition[1]: "is_failure" is a flag and takes no value'],
    ])('refuse %j with -32602 naming the position, and delete nothing', async (condition, message) => {
      const before = await countRows(t.dataSource);
      for (const method of ['js-result_query', 'js-result_delete', 'js-result_count', 'js-result_subscribe']) {
        await expect(dashboard.call(method, q(condition))).rejects.toMatchObject({ code: -32602, message: expect.stringContaining(`Invalid params: ${message}`) });
      }
      expect(await countRows(t.dataSource)).toBe(before);
    });
  });

  describe('tokens', () => {
    it('lists, creates from a template with a generated password, uses the new account, edits and deletes it', async () => {
      const listed = await dashboard.call<{ tokens: any[] }>('token_list_all_tokens', { token });
      expect(listed.tokens.map((entry) => entry.username)).toContain('root');

      // createTokenFromTemplate("visitor"), serialised by serializeTokenPayload (timestamps 0: not sent).
      const username = `visitor-template-ab:${generatedPassword(13).replace(/\|/g, '_')}`;
      const password = generatedPassword();
      expect(password).toContain(':');
      expect(password).toContain('|');
      const created = await dashboard.call<{ key: string; secret: string }>('token_create', {
        father_token: token,
        token_creation: { version: 1, token_limit: [{ scopes: ['global'], permissions: VISITOR_TEMPLATE_PERMISSIONS }], username, password },
      });
      expect(created).toEqual({ key: expect.stringMatching(/^[A-Za-z0-9]{16}$/), secret: expect.any(String) });

      // The new account, as the dashboard would log in with it.
      const account = `${username}|${password}`;
      expect(await dashboard.call('token_get', { token: account })).toMatchObject({ token_key: created.key, username });
      expect(await dashboard.call('nodeget-server_list_all_agent_uuid', { token: account })).toEqual({ uuids: [] });
      expect(await dashboard.call('token_get', { token: `${created.key}:${created.secret}` })).toMatchObject({ username });

      // getTokenDetailApi, then updateToken with the form's fields (version, limit, username).
      const detail = await dashboard.call('token_get', { supertoken: token, token: created.key });
      expect(detail.token_limit).toEqual([{ scopes: ['global'], permissions: VISITOR_TEMPLATE_PERMISSIONS }]);
      const limit = [{ scopes: [{ js_worker: 'dash_*' }], permissions: [{ js_result: { read: 'dash_*' } }] }];
      const edited = await dashboard.call('token_edit', { token, target_token: created.key, version: 1, limit, username });
      expect(edited).toMatchObject({ success: true, token_key: created.key });
      expect((await dashboard.call('token_get', { token: account })).token_limit).toEqual(limit);
      const newest = await dashboard.call<any[]>('js-result_query', { token: account, query: { condition: [{ js_worker_name: 'dash_logs' }, { last: null }] } });
      expect(newest.map((r) => r.js_worker_name)).toEqual(['dash_logs']);
      await expect(dashboard.call('js-result_query', { token: account, query: { condition: [{ js_worker_name: 'base-worker' }] } })).rejects.toMatchObject({ code: 102 });

      // An agent token as the dashboard names them.
      const agent = `[agent]:${randomUUID()}`;
      const agentPassword = generatedPassword();
      await dashboard.call('token_create', { father_token: token, token_creation: { version: 1, token_limit: [], username: agent, password: agentPassword } });
      expect(await dashboard.call('token_get', { token: `${agent}|${agentPassword}` })).toMatchObject({ username: agent });

      // deleteToken: target_token is the key.
      expect(await dashboard.call('token_delete', { token, target_token: created.key })).toMatchObject({ message: expect.any(String), rows_affected: 1 });
      await expect(dashboard.call('token_get', { token: account })).rejects.toMatchObject({ code: 102 });
      const after = await dashboard.call<{ tokens: any[] }>('token_list_all_tokens', { token });
      expect(after.tokens.map((entry) => entry.token_key)).not.toContain(created.key);
    });
  });

  it('kept the one dashboard connection open through every flow, on its heartbeat', () => {
    expect(dashboard.open).toBe(true);
    expect(dashboard.heartbeatFailures).toBe(0);
    expect(dashboard.heartbeats).toBeGreaterThan(10);
    expect(dashboard.unmatched).toEqual([]);
  });
});

describe(`nodeget-server_uuid across instances of one database (${backendName})`, () => {
  let database: TestDatabase;
  let dataDir: string | undefined;

  beforeAll(async () => {
    if (backendName === 'embedded') {
      dataDir = await mkdtemp(join(tmpdir(), 'nodeget-uuid-'));
      database = { target: { kind: 'embedded', dataDir }, drop: () => rm(dataDir!, { recursive: true, force: true }) };
    } else {
      database = await createTestDatabase();
    }
  });

  afterAll(() => database.drop());

  it('is made at first start and then the same on every instance (one after the other; at once on PostgreSQL)', async () => {
    const first = await startTestApp({}, database);
    const uuidOf = async (app: TestApp) => {
      await app.app.listen(0, '127.0.0.1');
      const connection = await DashboardConnection.open(wsUrl(app.app, '/'));
      try {
        return await connection.call<string>('nodeget-server_uuid', []);
      } finally {
        await connection.close();
      }
    };
    const uuid = await uuidOf(first);
    expect(uuid).toMatch(UUID);
    if (backendName === 'postgres') {
      const second = await startTestApp({}, database);
      try {
        expect(await uuidOf(second)).toBe(uuid);
      } finally {
        await second.close();
      }
    }
    await first.close();
    const later = await startTestApp({}, database);
    try {
      expect(await uuidOf(later)).toBe(uuid);
    } finally {
      await later.close();
    }
  });
});
