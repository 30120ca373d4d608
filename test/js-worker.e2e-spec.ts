import { LIMIT_BOUNDS } from '../src/js-worker/runtime';
import { b64, createWorker, resultRow, rpcCall, runToEnd, runWorker, waitFinished } from './support/js-worker.helpers';
import { countRows, rpc, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';

const limit = (scopes: unknown[], permissions: unknown[]) => ({ scopes, permissions });
const jw = (action: string) => ({ js_worker: action });

const ECHO = `export default {
  onCall(params, env, ctx) {
    console.log('called with', params);
    return { params, env, ctx };
  },
  onCron(params, env, ctx) {
    return { cron: true, run_type: ctx.run_type };
  },
}`;

/** The js-worker namespace end to end: stored scripts, runs, outcomes in js_result, permissions. */
describe(`js-worker methods (${backendName})`, () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ tokenCacheTtlMs: 0 });
  });

  afterAll(() => t.close());

  describe('create, read, update, delete, list', () => {
    it('stores a worker and reads it back with its script, env and limits', async () => {
      const created = await createWorker(t.app, t.superToken, 'crud_echo', ECHO, {
        description: 'echoes',
        env: { REGION: 'eu' },
        max_run_time: 5_000,
      });
      const summary = {
        id: expect.any(Number),
        name: 'crud_echo',
        description: 'echoes',
        route_name: null,
        runtime_clean_time: null,
        max_run_time: 5_000,
        max_stack_size: 1024 * 1024,
        max_heap_size: 8 * 1024 * 1024,
        create_at: expect.any(Number),
        update_at: expect.any(Number),
      };
      expect(created.result).toEqual(summary);

      const read = await rpcCall(t.app, 'js-worker_read', { token: t.superToken, name: 'crud_echo' });
      expect(read.result).toEqual({ ...created.result, js_script_base64: b64(ECHO), env: { REGION: 'eu' } });
      expect(Math.abs(read.result.create_at - Date.now())).toBeLessThan(60_000);
    });

    it('accepts positional params', async () => {
      const created = await rpcCall(t.app, 'js-worker_create', [t.superToken, 'crud_positional', null, b64(ECHO)]);
      expect(created.result.id).toEqual(expect.any(Number));
      const read = await rpcCall(t.app, 'js-worker_read', [t.superToken, 'crud_positional']);
      expect(read.result).toMatchObject({ name: 'crud_positional', description: null, env: {} });
    });

    it('refuses a script that does not parse, saying where', async () => {
      const body = await createWorker(t.app, t.superToken, 'crud_bad', 'export default {\n  onCall() {\n    return 1 +;\n  },\n}');
      expect(body.error.code).toBe(108);
      expect(body.error.message).toMatch(/^Invalid input: js_script_base64: SyntaxError: .+ at line 3, column \d+$/);
      expect((await rpcCall(t.app, 'js-worker_read', { token: t.superToken, name: 'crud_bad' })).error.code).toBe(105);
    });

    it.each([
      ['no default export', 'export const onCall = () => 1', 'default export must be an object with onCall, onCron, onInlineCall or onRoute'],
      ['a default export without handlers', 'export default { run() {} }', 'default export must be an object with onCall, onCron, onInlineCall or onRoute'],
      ['an import', "import fs from 'fs';\nexport default { onCall() {} }", 'module loading is disabled'],
      ['an error at load time', "throw new Error('nope');\nexport default { onCall() {} }", 'Error: nope at line 1'],
    ])('refuses a script with %s', async (_label, source, message) => {
      const body = await createWorker(t.app, t.superToken, 'crud_refused', source);
      expect(body.error.code).toBe(108);
      expect(body.error.message).toContain(message);
    });

    it.each<[string, Record<string, unknown>, number, string]>([
      ['a name with *', { name: 'a*b' }, 108, "name: must not contain '*'"],
      ['an empty name', { name: '' }, 108, 'name: must be 1 to 255 characters, got 0'],
      ['a name of 256 characters', { name: 'x'.repeat(256) }, 108, 'name: must be 1 to 255 characters, got 256'],
      ['a name that is not a string', { name: 7 }, -32602, 'name: expected a worker name (a string), got 7'],
      ['base64 with characters outside the alphabet', { js_script_base64: 'ZXhw*b3J0' }, 108, 'js_script_base64: not valid base64'],
      ['base64 with whitespace', { js_script_base64: 'ZXhw b3J0' }, 108, 'js_script_base64: not valid base64'],
      ['base64 of bytes that are not UTF-8', { js_script_base64: Buffer.from([0xff, 0xfe, 0x41]).toString('base64') }, 108, 'not valid UTF-8'],
      ['a script that is not a string', { js_script_base64: 12 }, -32602, 'js_script_base64: expected the script as a base64 string'],
      ['a max_run_time of 0', { max_run_time: 0 }, 108, `max_run_time: must be between 1 and ${LIMIT_BOUNDS.maxRunTimeMs.max} ms, got 0`],
      ['a max_heap_size too small', { max_heap_size: 1000 }, 108, `max_heap_size: must be between ${LIMIT_BOUNDS.maxHeapBytes.min} and ${LIMIT_BOUNDS.maxHeapBytes.max} bytes`],
      ['a max_stack_size too large', { max_stack_size: 2 ** 30 }, 108, `max_stack_size: must be between ${LIMIT_BOUNDS.maxStackBytes.min} and ${LIMIT_BOUNDS.maxStackBytes.max} bytes`],
      ['a fractional limit', { max_run_time: 1.5 }, -32602, 'max_run_time: expected an integer (milliseconds) or null for the default, got 1.5'],
      ['a limit given as a string', { max_heap_size: '8MiB' }, -32602, 'max_heap_size: expected an integer (bytes)'],
      ['an env that is an array', { env: ['A'] }, -32602, 'env: expected a JSON object'],
      ['an env with a NUL character', { env: { A: 'x\u0000y' } }, -32602, 'env.A: contains a NUL character (U+0000), which cannot be stored'],
      ['a route name with a slash', { route_name: 'a/b' }, 108, 'route_name can only contain [a-zA-Z0-9._-]'],
      ['a route name of dots', { route_name: '..' }, 108, "route_name cannot be '.' or '..'"],
      ['a route name of 129 characters', { route_name: 'r'.repeat(129) }, 108, 'route_name too long (max 128 chars)'],
      ['a route name that is not a string', { route_name: 5 }, -32602, 'route_name: expected a string or null, got 5'],
      ['a runtime_clean_time of 0', { runtime_clean_time: 0 }, 108, 'runtime_clean_time: must be a positive integer of milliseconds'],
      ['a fractional runtime_clean_time', { runtime_clean_time: 1.5 }, -32602, 'runtime_clean_time: expected an integer (milliseconds) or null, got 1.5'],
    ])('refuses %s', async (_label, override, code, message) => {
      const body = await rpcCall(t.app, 'js-worker_create', { token: t.superToken, name: 'crud_checked', js_script_base64: b64(ECHO), ...override });
      expect(body.error.code).toBe(code);
      expect(body.error.message).toContain(message);
    });

    it('checks params before the token', async () => {
      const body = await rpcCall(t.app, 'js-worker_create', { token: 'garbage', name: 1, js_script_base64: b64(ECHO) });
      expect(body.error.code).toBe(-32602);
      expect((await rpcCall(t.app, 'js-worker_run', { token: 'x:y', js_script_name: 'a', run_type: 'later' })).error).toEqual({
        code: -32602,
        message: 'Invalid params: run_type: expected "call", "cron" or "route", got "later"',
        data: { path: 'run_type' },
      });
      expect((await rpcCall(t.app, 'js-worker_read', { name: 'a' })).error.message).toContain('token: expected a string');
    });

    it('refuses a second worker with the same name', async () => {
      await createWorker(t.app, t.superToken, 'crud_twice', ECHO);
      expect((await createWorker(t.app, t.superToken, 'crud_twice', ECHO)).error).toEqual({
        code: 108,
        message: "Invalid input: js_worker 'crud_twice' already exists",
      });
    });

    it('updates the given fields only, and null puts a limit back to its default', async () => {
      await createWorker(t.app, t.superToken, 'crud_update', ECHO, { description: 'before', env: { A: 1 }, max_heap_size: 16 * 1024 * 1024 });
      const before = (await rpcCall(t.app, 'js-worker_read', { token: t.superToken, name: 'crud_update' })).result;
      await new Promise((resolve) => setTimeout(resolve, 5));
      const updated = await rpcCall(t.app, 'js-worker_update', { token: t.superToken, name: 'crud_update', env: { B: 2 }, max_heap_size: null });
      expect(updated.result).toEqual({
        ...before,
        success: true,
        env: { B: 2 },
        max_heap_size: 8 * 1024 * 1024,
        update_at: expect.any(Number),
      });
      expect(updated.result.update_at).toBeGreaterThan(before.update_at);
      const noChange = await rpcCall(t.app, 'js-worker_update', { token: t.superToken, name: 'crud_update' });
      expect(noChange.error.code).toBe(-32602);
      expect(noChange.error.message).toContain('expected at least one field to change');
      const badScript = await rpcCall(t.app, 'js-worker_update', { token: t.superToken, name: 'crud_update', js_script_base64: b64('x') });
      expect(badScript.error.code).toBe(108);
      const missing = await rpcCall(t.app, 'js-worker_update', { token: t.superToken, name: 'crud_nobody', description: 'x' });
      expect(missing.error).toEqual({ code: 105, message: 'Not found in database: js_worker not found: crud_nobody' });
    });

    it('lets a run under way finish on the old code', async () => {
      const version = (v: string, ms: number) =>
        `export default { onCall() { const end = Date.now() + ${ms}; while (Date.now() < end) {} return '${v}' } }`;
      await createWorker(t.app, t.superToken, 'crud_versions', version('old', 600));
      const first = await runWorker(t.app, t.superToken, 'crud_versions');
      const updated = await rpcCall(t.app, 'js-worker_update', { token: t.superToken, name: 'crud_versions', js_script_base64: b64(version('new', 0)) });
      expect(updated.result.js_script_base64).toBe(b64(version('new', 0)));
      const second = await runWorker(t.app, t.superToken, 'crud_versions');
      expect((await waitFinished(t.app, t.superToken, first.result.id)).result).toBe('old');
      expect((await waitFinished(t.app, t.superToken, second.result.id)).result).toBe('new');
    });

    it('deletes a worker and keeps the results of its runs', async () => {
      await createWorker(t.app, t.superToken, 'crud_gone', ECHO);
      const row = await runToEnd(t.app, t.superToken, 'crud_gone');
      expect(await rpcCall(t.app, 'js-worker_delete', { token: t.superToken, name: 'crud_gone' })).toMatchObject({ result: { success: true } });
      expect((await rpcCall(t.app, 'js-worker_read', { token: t.superToken, name: 'crud_gone' })).error).toEqual({
        code: 105,
        message: 'Not found in database: js_worker not found: crud_gone',
      });
      expect((await rpcCall(t.app, 'js-worker_delete', { token: t.superToken, name: 'crud_gone' })).error).toEqual({
        code: 105,
        message: 'Not found in database: js_worker not found: crud_gone',
      });
      expect(await resultRow(t.app, t.superToken, row.id)).toEqual(row);
    });

    it('lists the stored workers a token may list', async () => {
      for (const name of ['list_a1', 'list_a2', 'list_b1']) await createWorker(t.app, t.superToken, name, ECHO);
      const token = await t.token([limit([{ js_worker: 'list_a*' }, { js_worker: 'list_zz' }], [jw('list_all_js_worker')])]);
      expect((await rpcCall(t.app, 'js-worker_list_all_js_worker', { token })).result).toEqual(['list_a1', 'list_a2']);
      const reader = await t.token([limit(['global'], [jw('read')])]);
      expect((await rpcCall(t.app, 'js-worker_list_all_js_worker', [reader])).result).toEqual([]);
      const all = (await rpcCall(t.app, 'js-worker_list_all_js_worker', { token: t.superToken })).result;
      expect(all).toEqual(expect.arrayContaining(['list_a1', 'list_a2', 'list_b1']));
      expect(all).toEqual([...all].sort());
    });
  });

  describe('runs', () => {
    beforeAll(async () => {
      await createWorker(t.app, t.superToken, 'run_echo', ECHO, { env: { REGION: 'eu', KEEP: 'yes' } });
    });

    it('returns the js_result id at once and records the result, params, env and ctx', async () => {
      const started = await runWorker(t.app, t.superToken, 'run_echo', { params: { n: 1 }, env: { REGION: 'us' } });
      const id = started.result.id;
      const row = await waitFinished(t.app, t.superToken, id);
      const worker = (await rpcCall(t.app, 'js-worker_read', { token: t.superToken, name: 'run_echo' })).result;
      expect(row).toEqual({
        id,
        js_worker_id: worker.id,
        js_worker_name: 'run_echo',
        run_type: 'call',
        start_time: expect.any(Number),
        finish_time: expect.any(Number),
        param: { n: 1 },
        result: {
          params: { n: 1 },
          env: { REGION: 'us', KEEP: 'yes' },
          ctx: { run_type: 'call', js_result_id: id, worker_name: 'run_echo', runType: 'onCall', workerName: 'run_echo', inlineCaller: null },
        },
        error_message: null,
      });
      expect(row.finish_time).toBeGreaterThanOrEqual(row.start_time);
      const stored = (await rpcCall(t.app, 'js-worker_read', { token: t.superToken, name: 'run_echo' })).result;
      expect(stored.env).toEqual({ REGION: 'eu', KEEP: 'yes' });
    });

    it('keeps the console output with the run', async () => {
      const row = await runToEnd(t.app, t.superToken, 'run_echo', { params: [1, 'two'] });
      expect((await rpcCall(t.app, 'js-worker_run_console', { token: t.superToken, id: row.id })).result).toEqual({
        id: row.id,
        js_worker_name: 'run_echo',
        finished: true,
        lines: ['[log] called with [1,"two"]'],
      });
      expect((await rpcCall(t.app, 'js-worker_run_console', [t.superToken, 987654321])).error).toEqual({
        code: 108,
        message: 'Invalid input: js_result 987654321 not found',
      });
    });

    it('runs onCron for run_type cron, with no params stored', async () => {
      const row = await runToEnd(t.app, t.superToken, 'run_echo', { run_type: 'cron' });
      expect(row).toMatchObject({ run_type: 'cron', param: null, result: { cron: true, run_type: 'cron' }, error_message: null });
    });

    it('stores a null result as a success', async () => {
      await createWorker(t.app, t.superToken, 'run_null', 'export default { onCall: () => null }');
      const row = await runToEnd(t.app, t.superToken, 'run_null');
      expect(row).toMatchObject({ result: null, error_message: null, finish_time: expect.any(Number) });
      const successes = await rpcCall(t.app, 'js-result_query', { token: t.superToken, query: { condition: [{ id: row.id }, 'is_success'] } });
      expect(successes.result).toHaveLength(1);
    });

    it.each<[string, string, Record<string, unknown>, RegExp | string]>([
      ['a throw, with message and line', "export default {\n  onCall() {\n    throw new Error('boom');\n  },\n}", {}, 'Error: boom at line 3'],
      ['a rejected promise', "export default {\n  async onCall() {\n    await null;\n    throw new TypeError('nope');\n  },\n}", {}, 'TypeError: nope at line 4'],
      ['a missing handler', 'export default { onCall() { return 1 } }', { run_type: 'cron' }, 'handler onCron is not defined'],
      ['a result that is not JSON-serialisable', 'export default { onCall() { return () => 1 } }', {}, 'result is not JSON-serialisable'],
      ['a BigInt result', 'export default { onCall() { return { n: 1n } } }', {}, /^result is not JSON-serialisable \(TypeError: .+\)$/],
      ['an endless loop', 'export default { onCall() { for (;;) {} } }', { limits: { max_run_time: 300 } }, /^max_run_time exceeded: script ran longer than 300 ms$/],
      ['an async handler that never settles', 'export default { onCall() { return new Promise(() => {}) } }', { limits: { max_run_time: 300 } }, /max_run_time/],
      ['heap exhaustion', 'export default { onCall() { const keep = []; for (;;) keep.push(new Array(1e4).fill(7)) } }', { limits: { max_heap_size: 2 * 1024 * 1024 } }, /^max_heap_size exceeded/],
      ['deep recursion', 'export default { onCall() { const f = (n) => f(n + 1) + 1; return f(0) } }', { limits: { max_stack_size: 64 * 1024 } }, /^max_stack_size exceeded/],
    ])('records %s as a failure', async (_label, source, extra, expected) => {
      const name = `fail_${Math.random().toString(36).slice(2, 10)}`;
      const { limits, ...runExtra } = extra as { limits?: Record<string, number> };
      expect((await createWorker(t.app, t.superToken, name, source, limits)).result).toBeDefined();
      const started = Date.now();
      const row = await runToEnd(t.app, t.superToken, name, runExtra);
      expect(row.result).toBeNull();
      if (typeof expected === 'string') expect(row.error_message).toBe(expected);
      else expect(row.error_message).toMatch(expected);
      expect(Date.now() - started).toBeLessThan(10_000);
      const failures = await rpcCall(t.app, 'js-result_query', { token: t.superToken, query: { condition: [{ id: row.id }, 'is_failure'] } });
      expect(failures.result).toHaveLength(1);
    });

    it('stores 64-bit integer params exactly, and hands the script the nearest number', async () => {
      const body = `{"jsonrpc":"2.0","id":1,"method":"js-worker_run","params":{"token":"${t.superToken}","js_script_name":"run_echo","params":{"big":9007199254740993}}}`;
      const started = (await rpc(t.app, body)).body;
      const row = await waitFinished(t.app, t.superToken, started.result.id);
      expect(row.result.params).toEqual({ big: 9007199254740992 });
      const [stored] = await t.dataSource.query('SELECT param::text AS param FROM js_result WHERE id = $1', [row.id]);
      expect(stored.param).toBe('{"big": 9007199254740993}');
    });

    it('refuses an unknown worker with 105 and writes nothing', async () => {
      const before = await countRows(t.dataSource);
      expect(await runWorker(t.app, t.superToken, 'nobody_here')).toMatchObject({
        error: { code: 105, message: 'Not found in database: js_worker not found: nobody_here' },
      });
      expect(await countRows(t.dataSource)).toBe(before);
    });
  });

  describe('permissions', () => {
    beforeAll(async () => {
      await createWorker(t.app, t.superToken, 'perm_demo', ECHO);
      await createWorker(t.app, t.superToken, 'other_demo', ECHO);
    });

    it('refuses a token without the permission with 102, naming worker and action', async () => {
      const reader = await t.token([limit([{ js_worker: 'perm_*' }], [jw('read')])]);
      const cases: [string, unknown, string][] = [
        ['js-worker_create', { token: reader, name: 'perm_new', js_script_base64: b64(ECHO) }, "worker 'perm_new', action: Create"],
        ['js-worker_update', { token: reader, name: 'perm_demo', description: 'x' }, "worker 'perm_demo', action: Write"],
        ['js-worker_delete', { token: reader, name: 'perm_demo' }, "worker 'perm_demo', action: Delete"],
        ['js-worker_run', { token: reader, js_script_name: 'perm_demo' }, "worker 'perm_demo', action: RunDefinedJsWorker"],
        ['js-worker_read', { token: reader, name: 'other_demo' }, "worker 'other_demo', action: Read"],
      ];
      for (const [method, params, what] of cases) {
        expect((await rpcCall(t.app, method, params)).error).toEqual({
          code: 102,
          message: `Permission denied: Permission denied for js_worker on ${what}`,
        });
      }
      expect((await rpcCall(t.app, 'js-worker_read', { token: reader, name: 'perm_demo' })).result.name).toBe('perm_demo');
    });

    it('checks permission before existence, so names cannot be probed', async () => {
      const runner = await t.token([limit([{ js_worker: 'perm_*' }], [jw('run_defined_js_worker')])]);
      expect((await runWorker(t.app, runner, 'secret_worker')).error.code).toBe(102);
      expect((await runWorker(t.app, runner, 'perm_missing')).error.code).toBe(105);
    });

    it('does not combine a scope from one limit with a permission from another', async () => {
      const split = await t.token([limit([{ js_worker: 'perm_demo' }], [jw('read')]), limit([{ js_worker: 'x' }], [jw('run_defined_js_worker')])]);
      expect((await runWorker(t.app, split, 'perm_demo')).error.code).toBe(102);
    });

    it('lets a run permission start runs whose results are read with js_result permissions', async () => {
      const token = await t.token([
        limit([{ js_worker: 'perm_*' }], [jw('run_defined_js_worker'), { js_result: { read: 'perm_*' } }]),
      ]);
      const started = await runWorker(t.app, token, 'perm_demo', { params: 'hi' });
      const row = await waitFinished(t.app, token, started.result.id);
      expect(row.result.params).toBe('hi');
      expect((await rpcCall(t.app, 'js-worker_run_console', { token, id: row.id })).result.lines).toEqual(['[log] called with hi']);

      const runOnly = await t.token([limit([{ js_worker: 'perm_*' }], [jw('run_defined_js_worker')])]);
      const other = await runWorker(t.app, runOnly, 'perm_demo');
      expect(other.result.id).toEqual(expect.any(Number));
      expect((await rpcCall(t.app, 'js-result_query', { token: runOnly, query: { condition: [{ id: other.result.id }] } })).result).toEqual([]);
      expect((await rpcCall(t.app, 'js-worker_run_console', { token: runOnly, id: other.result.id })).error.code).toBe(108);
      await waitFinished(t.app, t.superToken, other.result.id);
    });

    it('refuses a js_worker permission that is not a string when a token is created', async () => {
      await expect(t.token([limit(['global'], [{ js_worker: { create: '*' } }])])).rejects.toThrow(
        'token_limit: [0].permissions[0].js_worker: expected a permission name such as "run_defined_js_worker"',
      );
      // Unknown string values are kept and grant nothing here.
      const raw = await t.token([limit(['global'], [jw('run_raw_js_worker')])]);
      expect((await runWorker(t.app, raw, 'perm_demo')).error.code).toBe(102);
    });
  });

  describe('a full queue', () => {
    let small: TestApp;

    beforeAll(async () => {
      small = await startTestApp({ jsWorkerPoolSize: 1, jsWorkerMaxQueue: 1 });
      await createWorker(small.app, small.superToken, 'busy', 'export default { onCall() { const end = Date.now() + 700; while (Date.now() < end) {} return 1 } }');
    });

    afterAll(() => small.close());

    it('is refused at run time with a clear error, and no row is written', async () => {
      const first = await runWorker(small.app, small.superToken, 'busy');
      const second = await runWorker(small.app, small.superToken, 'busy');
      expect(first.result.id).toEqual(expect.any(Number));
      expect(second.result.id).toEqual(expect.any(Number));
      const rows = await countRows(small.dataSource);
      expect(await runWorker(small.app, small.superToken, 'busy')).toMatchObject({
        error: { code: 108, message: 'Invalid input: the run queue is full (1 waiting); try again later' },
      });
      expect(await countRows(small.dataSource)).toBe(rows);
      expect((await waitFinished(small.app, small.superToken, first.result.id)).result).toBe(1);
      expect((await waitFinished(small.app, small.superToken, second.result.id)).result).toBe(1);
    });

    it('admits no more than the queue holds when runs arrive together', async () => {
      await waitIdle(small);
      const replies = await Promise.all(Array.from({ length: 6 }, () => runWorker(small.app, small.superToken, 'busy')));
      const admitted = replies.filter((r) => r.result);
      expect(admitted).toHaveLength(2);
      expect(replies.filter((r) => r.error?.code === 108)).toHaveLength(4);
      for (const r of admitted) expect((await waitFinished(small.app, small.superToken, r.result.id)).result).toBe(1);
    });
  });
});

async function waitIdle(t: TestApp): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const running = await rpcCall(t.app, 'js-result_query', { token: t.superToken, query: { condition: ['is_running'] } });
    if (running.result.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
