import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DEFAULT_RESPONSE_LIMITS, DEFAULT_WORKER_API_SETTINGS } from '../src/config/app.config';
import { createWorker, runToEnd } from './support/js-worker.helpers';
import { startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';

const MAX_DEPTH = 2;
const MAX_INLINE_CALLS = 4;
const MAX_CALL_REPLY_BYTES = 4096;
const MAX_RUN_REPLY_BYTES = 6000;

const example = (name: string) => readFileSync(path.join(__dirname, '..', 'examples', 'workers', name), 'utf8');

/** The results of one run's inline calls, oldest first: what js_result holds for them. */
type Row = { run_type: string; js_worker_name: string; param: unknown; result: unknown; error_message: string | null };

/**
 * The injected API NodeGet scripts use (inlineCall, nodeget, the handler context), on one sandbox
 * thread, so an inline call can only run because the pool lends its callers' waits a thread.
 */
describe(`js-worker injected API (${backendName})`, () => {
  let t: TestApp;
  let site: http.Server;
  let sitePort: number;

  beforeAll(async () => {
    site = http.createServer((req, res) => {
      if (req.url === '/away') return void res.writeHead(302, { location: 'http://example.com/' }).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url, method: req.method }));
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    sitePort = (site.address() as AddressInfo).port;
    t = await startTestApp({
      jsWorkerPoolSize: 1,
      workerApi: {
        ...DEFAULT_WORKER_API_SETTINGS,
        inlineCallMaxDepth: MAX_DEPTH,
        inlineCallMaxPerRun: MAX_INLINE_CALLS,
        nodegetMaxReplyBytesPerRun: MAX_RUN_REPLY_BYTES,
        fetchAllow: [`127.0.0.1:${sitePort}`],
      },
      responses: { ...DEFAULT_RESPONSE_LIMITS, maxCallResponseBytes: MAX_CALL_REPLY_BYTES },
    });
    await createWorker(t.app, t.superToken, 'double', 'export default { onInlineCall(n, env, ctx) { return { doubled: n * 2, caller: ctx.inlineCaller, runType: ctx.runType, me: ctx.workerName } } }');
    await createWorker(t.app, t.superToken, 'thrower', "export default { onInlineCall() { throw new RangeError('callee says no') } }");
    await createWorker(t.app, t.superToken, 'spin', 'export default { onInlineCall() { for (;;) {} } }', { max_run_time: 60_000 });
    await createWorker(t.app, t.superToken, 'recurse', 'export default { onCall: (n) => inlineCall("recurse", n + 1), onInlineCall: (n) => inlineCall("recurse", n + 1) }');
  });

  afterAll(async () => {
    await t.close();
    await new Promise((resolve) => site.close(resolve));
  });

  beforeEach(() => t.dataSource.query('DELETE FROM js_result'));

  async function runScript(name: string, source: string, extra: Record<string, unknown> = {}): Promise<any> {
    await t.dataSource.query('DELETE FROM js_worker WHERE name = $1', [name]);
    const created = await createWorker(t.app, t.superToken, name, source, { env: { token: t.superToken } });
    if (created.error) throw new Error(JSON.stringify(created.error));
    return runToEnd(t.app, t.superToken, name, extra);
  }

  const rows = (): Promise<Row[]> =>
    t.dataSource.query('SELECT run_type, js_worker_name, param, result, error_message FROM js_result ORDER BY id');
  const inlineRows = async () => (await rows()).filter((row) => row.run_type === 'inline_call');

  describe('inlineCall', () => {
    it('runs the callee in its own run and returns its result, with NodeGet context', async () => {
      const row = await runScript('caller', 'export default { async onCall(p, env, ctx) { return [await inlineCall("double", 21), await ctx.inlineCall("double", 1, 5), ctx.inlineCaller] } }');

      expect(row.result).toEqual([{ doubled: 42, caller: 'caller', runType: 'onInlineCall', me: 'double' }, { doubled: 2, caller: 'caller', runType: 'onInlineCall', me: 'double' }, null]);
      expect(await inlineRows()).toEqual([
        { run_type: 'inline_call', js_worker_name: 'double', param: 21, result: { doubled: 42, caller: 'caller', runType: 'onInlineCall', me: 'double' }, error_message: null },
        { run_type: 'inline_call', js_worker_name: 'double', param: 1, result: { doubled: 2, caller: 'caller', runType: 'onInlineCall', me: 'double' }, error_message: null },
      ]);
    });

    it("throws the callee's error in the caller as an Error with its message", async () => {
      const row = await runScript('caller', 'export default { async onCall() { try { await inlineCall("thrower", null) } catch (e) { return [e instanceof Error, e.message] } } }');

      expect(row.result).toEqual([true, 'RangeError: callee says no at line 1']);
      expect((await inlineRows()).map((r) => r.error_message)).toEqual(['RangeError: callee says no at line 1']);
    });

    it("ends the callee at the caller's timeout when it is shorter than the callee's max_run_time", async () => {
      const row = await runScript('caller', 'export default { async onCall() { return inlineCall("spin", null, 0.2).catch((e) => e.message) } }');

      expect(row.result).toBe('max_run_time exceeded: script ran longer than 200 ms');
      expect((await inlineRows()).map((r) => r.error_message)).toEqual(['max_run_time exceeded: script ran longer than 200 ms']);
    });

    it.each([
      ['a missing worker', 'inlineCall("nope", 1)', 'inlineCall: js_worker not found: nope'],
      ['a name that is not a string', 'inlineCall(42, 1)', 'inlineCall: js_worker_name must be a non-empty string'],
      ['params that are not JSON', 'inlineCall("double", { n: 1n })', 'inlineCall: params are not JSON-serialisable (Do not know how to serialize a BigInt)'],
      ['a timeout that is not a positive number', 'inlineCall("double", 1, -1)', 'inlineCall: timeout_sec must be a positive finite number of seconds'],
      ['params holding U+0000', 'inlineCall("double", "a\\u0000b")', 'inlineCall: params: contains a NUL character (U+0000), which cannot be stored'],
      ['params holding an unpaired surrogate', 'inlineCall("double", { s: ["\\ud800"] })', 'inlineCall: params.s[0]: contains an unpaired surrogate (U+D800), which cannot be stored'],
    ])('refuses %s with an error in the script and writes no row for it', async (_, expression, message) => {
      const row = await runScript('caller', `export default { async onCall() { try { await ${expression}; return 'called' } catch (e) { return e.message } } }`);

      expect(row.result).toBe(message);
      expect(await inlineRows()).toEqual([]);
    });

    it(`refuses a chain deeper than INLINE_CALL_MAX_DEPTH (${MAX_DEPTH}), cycles included`, async () => {
      const row = await runToEnd(t.app, t.superToken, 'recurse', { params: 0 });

      // Each caller rethrows its callee's message as its own uncaught Error, so the chain shows in it.
      expect(row.error_message).toBe("Error: Error: Error: inlineCall: too deep: 'recurse' calling 'recurse' would make a chain of 3 inline calls; at most 2 are allowed (INLINE_CALL_MAX_DEPTH)");
      expect((await inlineRows()).map((r) => r.param)).toEqual([1, 2]);
    });

    it(`refuses the inline call past INLINE_CALL_MAX_PER_RUN (${MAX_INLINE_CALLS}) of one run`, async () => {
      const row = await runScript('caller', `export default { async onCall() {
        const got = [];
        for (let i = 0; i < ${MAX_INLINE_CALLS + 2}; i++) got.push(await inlineCall("double", i).then((r) => r.doubled, (e) => e.message));
        return got;
      } }`);

      const refusal = `inlineCall: too many: this run and its inline calls have made ${MAX_INLINE_CALLS} inline calls, the most allowed (INLINE_CALL_MAX_PER_RUN)`;
      expect(row.result).toEqual([0, 2, 4, 6, refusal, refusal]);
      expect(await inlineRows()).toHaveLength(MAX_INLINE_CALLS);
    });

    it("refuses a worker the starting token may not run, and runs one it may", async () => {
      await createWorker(t.app, t.superToken, 'limited-caller', 'export default { async onCall() { return [await inlineCall("double", 2).then((r) => r.doubled), await inlineCall("thrower", 1).catch((e) => e.message)] } }');
      const token = await t.token([
        { scopes: [{ js_worker: 'limited-caller' }, { js_worker: 'double' }], permissions: [{ js_worker: 'run_defined_js_worker' }, { js_result: { read: '*' } }] },
      ]);

      const row = await runToEnd(t.app, token, 'limited-caller');

      expect(row.result).toEqual([4, "inlineCall: permission denied: the token that started this run may not run worker 'thrower' (RunDefinedJsWorker)"]);
      expect((await inlineRows()).map((r) => r.js_worker_name)).toEqual(['double']);
    });
  });

  describe('nodeget', () => {
    it('calls a method through the JSON-RPC pipeline with the token from its params, in both forms and as a batch', async () => {
      const row = await runScript('rpc', `export default { async onCall(p, env) {
        const one = await nodeget('js-worker_list_all_js_worker', { token: env.token }, 7);
        const whole = await nodeget({ jsonrpc: '2.0', method: 'js-worker_read', params: { token: env.token, name: 'double' }, id: 'r' });
        const batch = await nodeget([{ jsonrpc: '2.0', method: 'js-worker_list_all_js_worker', params: { token: env.token }, id: 1 }, { jsonrpc: '2.0', method: 'nope', id: 2 }]);
        const text = await nodeget(JSON.stringify({ jsonrpc: '2.0', method: 'js-worker_list_all_js_worker', params: [env.token], id: 3 }));
        return { one, whole: [whole.id, whole.result.name], batch: batch.map((r) => r.error ? r.error.code : r.result.length), text: text.result.length };
      } }`);

      const names: string[] = row.result.one.result;
      expect(row.result.one).toEqual({ jsonrpc: '2.0', id: 7, result: expect.arrayContaining(['double', 'recurse', 'rpc', 'spin', 'thrower']) });
      expect(row.result).toEqual({ one: expect.anything(), whole: ['r', 'double'], batch: [names.length, -32601], text: names.length });
    });

    it.each([
      ['a bad token', "nodeget('js-worker_list_all_js_worker', { token: 'nobody:nothing' })", 102],
      ['text that is not JSON', "nodeget('{\"jsonrpc\": \"2.0\", ')", -32700],
      ['a request without a method', "nodeget({ jsonrpc: '2.0', id: 1 })", -32600],
    ])('answers %s with the JSON-RPC error a network client would get, and changes nothing', async (_, expression, code) => {
      const row = await runScript('rpc', `export default { async onCall() { return (await ${expression}).error.code } }`);

      expect(row.result).toBe(code);
      expect((await rows()).map((r) => r.js_worker_name)).toEqual(['rpc']);
    });

    it("answers a reply over the call's budget with its 108 error, and changes nothing", async () => {
      await t.dataSource.query("INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time, finish_time, result) VALUES (1, 'big', 'call', 1, 2, $1::jsonb)", [JSON.stringify('x'.repeat(MAX_CALL_REPLY_BYTES))]);

      const row = await runScript('rpc', "export default { async onCall(p, env) { return (await nodeget('js-result_query', { token: env.token, query: { condition: [{ js_worker_name: 'big' }] } })).error } }");

      expect(row.result).toEqual(expect.objectContaining({ code: 108, data: expect.objectContaining({ limit: 'MAX_CALL_RESPONSE_BYTES', limit_bytes: MAX_CALL_REPLY_BYTES }) }));
      expect((await rows()).map((r) => r.js_worker_name)).toEqual(['big', 'rpc']);
    });

    it("refuses a reply past the run's reply bytes as an error in the script", async () => {
      const row = await runScript('rpc', `export default { async onCall(p, env) {
        const got = [];
        for (let i = 0; i < 20; i++) {
          got.push(await nodeget('js-worker_read', { token: env.token, name: 'double' }).then(() => 'ok', (e) => e.message));
        }
        return got;
      } }`);

      const firstRefused = row.result.indexOf(row.result.find((r: string) => r !== 'ok'));
      expect(firstRefused).toBeGreaterThan(0);
      expect(row.result[firstRefused]).toMatch(new RegExp(`^nodeget: the reply is \\d+ bytes; .* would pass ${MAX_RUN_REPLY_BYTES}, the most one run may receive$`));
      expect((await rows()).map((r) => r.js_worker_name)).toEqual(['rpc']);
    });

    it('refuses what cannot be a request before anything is sent', async () => {
      const row = await runScript('rpc', "export default { async onCall() { return [await nodeget(5).catch((e) => e.message), await nodeget({ a: 1n }).catch((e) => e.message)] } }");

      expect(row.result).toEqual(['nodeget: expected a request object, an array of them, or their JSON text', 'nodeget: Do not know how to serialize a BigInt']);
      expect((await rows()).map((r) => r.js_worker_name)).toEqual(['rpc']);
    });
  });

  describe('fetch', () => {
    it('fetches from a listed host and hands the script a Response', async () => {
      const row = await runScript('fetcher', `export default { async onCall(p) {
        const r = await fetch(p.url, { method: 'POST', body: 'x' });
        return [r.status, r.ok, r.headers.get('content-type'), await r.json(), r.url, r.redirected];
      } }`, { params: { url: `http://127.0.0.1:${sitePort}/data?q=1` } });

      expect(row.result).toEqual([200, true, 'application/json', { path: '/data?q=1', method: 'POST' }, `http://127.0.0.1:${sitePort}/data?q=1`, false]);
    });

    it.each([
      ['a host not listed', `http://localhost:PORT/`, 'fetch: localhost:PORT is not an allowed host (WORKER_FETCH_ALLOW)'],
      ['a redirect leaving the list', `http://127.0.0.1:PORT/away`, 'fetch: example.com is not an allowed host (WORKER_FETCH_ALLOW)'],
    ])('refuses %s with an error in the script, and writes nothing else', async (_, url, message) => {
      const fill = (text: string) => text.replace('PORT', String(sitePort));

      const row = await runScript('fetcher', 'export default { async onCall(p) { return fetch(p.url).then(() => "fetched", (e) => [e instanceof TypeError, e.message]) } }', { params: { url: fill(url) } });

      expect(row.result).toEqual([true, fill(message)]);
      expect((await rows()).map((r) => r.js_worker_name)).toEqual(['fetcher']);
    });
  });

  describe('examples/workers', () => {
    beforeAll(async () => {
      await createWorker(t.app, t.superToken, 'summarise-results', example('summarise-results.js'));
      await createWorker(t.app, t.superToken, 'cron-report', example('cron-report.js'), { env: { token: t.superToken, worker: 'double' } });
    });

    it('runs the cron job that inline-calls the nodeget() summary', async () => {
      await t.dataSource.query(
        "INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time, finish_time, result, error_message) VALUES (1, 'double', 'call', $1, $1, '1', NULL), (1, 'double', 'call', $1, $1, NULL, 'bad')",
        [Date.now() - 1000],
      );

      const row = await runToEnd(t.app, t.superToken, 'cron-report', { run_type: 'cron' });

      expect(row.result).toEqual({ reportedBy: 'cron-report', runType: 'onCron', summary: { worker: 'double', runs: 2, finished: 1, failed: 1 } });
      expect((await inlineRows()).map((r) => r.js_worker_name)).toEqual(['summarise-results']);
    });

    it('runs the summary directly with js-worker_run', async () => {
      await t.dataSource.query("INSERT INTO js_result (js_worker_id, js_worker_name, run_type, start_time, finish_time, result) VALUES (1, 'spin', 'call', $1, $1, '1')", [Date.now() - 1000]);

      const row = await runToEnd(t.app, t.superToken, 'summarise-results', { params: { token: t.superToken, worker: 'spin' } });

      expect(row.result).toEqual({ worker: 'spin', runs: 1, finished: 1, failed: 0 });
    });
  });
});
