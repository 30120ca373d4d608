import { CONSOLE_MAX_LINES, CONSOLE_TRUNCATED_LINE } from './console.capture';
import { loadQuickJS, type QuickJSEngine } from './quickjs.loader';
import type { RunJob, RunOutcome } from './runtime.types';
import { runScript } from './script-runner';
import { toSandboxRequest } from './sandbox.protocol';

describe(runScript.name, () => {
  let engine: QuickJSEngine;

  beforeAll(async () => {
    engine = await loadQuickJS(256 * 1024 * 1024);
  });

  function sut(script: string, overrides: Partial<RunJob> = {}): Promise<RunOutcome> {
    const job: RunJob = {
      script,
      handler: 'onCall',
      params: { n: 21 },
      env: { region: 'eu' },
      ctx: { run_type: 'call', js_result_id: 7, worker_name: 'w' },
      ...overrides,
    };
    const request = toSandboxRequest(job);
    if (typeof request === 'string') throw new Error(request);
    return runScript(engine, request);
  }

  function errorOf(outcome: RunOutcome): string {
    if (outcome.ok) throw new Error(`expected failure, got ${JSON.stringify(outcome.result)}`);
    return outcome.error;
  }

  describe('results', () => {
    it('returns a sync result and captures console output with levels', async () => {
      const outcome = await sut(`export default {
        onCall(params, env, ctx) {
          console.log('hi', params);
          console.warn(1, true, undefined, null);
          console.error(new TypeError('bad'));
          console.info(() => 1, 5n);
          console.debug(ctx.worker_name);
          return { ok: true, n: params.n * 2, env: env.region, id: ctx.js_result_id };
        },
      }`);

      expect(outcome).toEqual({
        ok: true,
        result: { ok: true, n: 42, env: 'eu', id: 7 },
        console: [
          '[log] hi {"n":21}',
          '[warn] 1 true undefined null',
          '[error] TypeError: bad',
          '[info] [Function anonymous] 5n',
          '[debug] w',
        ],
      });
    });

    it('awaits an async handler, including pending promise chains', async () => {
      const outcome = await sut(`export default {
        async onCall(params) {
          const doubled = await Promise.resolve(params.n).then((n) => n * 2);
          console.log('done');
          return { doubled };
        },
      }`);

      expect(outcome).toEqual({ ok: true, result: { doubled: 42 }, console: ['[log] done'] });
    });

    it('treats null as a successful result', async () => {
      expect(await sut('export default { onCall() { return null } }')).toEqual({ ok: true, result: null, console: [] });
    });

    it('runs onCron and passes undefined params through', async () => {
      const outcome = await sut('export default { onCron(params) { return typeof params } }', {
        handler: 'onCron',
        params: undefined,
      });

      expect(outcome).toEqual({ ok: true, result: 'undefined', console: [] });
    });

    it('supports top-level await in the module', async () => {
      const outcome = await sut('const base = await Promise.resolve(2); export default { onCall: () => base }');

      expect(outcome).toEqual({ ok: true, result: 2, console: [] });
    });

    it('hands the handler deep copies, so mutating them cannot leak between runs', async () => {
      const params = { list: [1] };
      await sut('export default { onCall(p) { p.list.push(2); return p } }', { params });

      expect(params).toEqual({ list: [1] });
    });
  });

  describe('failures', () => {
    it('reports a thrown error with name, message and line', async () => {
      const outcome = await sut(`export default {
        onCall() {
          throw new Error('boom');
        },
      }`);

      expect(errorOf(outcome)).toBe('Error: boom at line 3');
    });

    it('keeps console output captured before the failure', async () => {
      const outcome = await sut("export default { onCall() { console.log('before'); throw new RangeError('x') } }");

      expect(outcome).toEqual({ ok: false, error: 'RangeError: x at line 1', console: ['[log] before'] });
    });

    it('reports a rejected promise', async () => {
      const outcome = await sut(`export default {
        async onCall() {
          await null;
          throw new TypeError('nope');
        },
      }`);

      expect(errorOf(outcome)).toBe('TypeError: nope at line 4');
    });

    it('reports a thrown non-Error value', async () => {
      expect(errorOf(await sut("export default { onCall() { throw { code: 1 } } }"))).toBe('Uncaught {"code":1}');
    });

    it('reports a missing handler', async () => {
      expect(errorOf(await sut('export default { onCall() {} }', { handler: 'onCron' }))).toBe(
        'handler onCron is not defined',
      );
    });

    it('reports a handler that is not a function as missing', async () => {
      expect(errorOf(await sut('export default { onCall: 42 }'))).toBe('handler onCall is not defined');
    });

    it('reports a syntax error with line and column', async () => {
      expect(errorOf(await sut('export default {\n  onCall() { return 1 +; }\n}'))).toMatch(
        /^SyntaxError: .+ at line 2, column \d+$/,
      );
    });

    it('reports an error thrown while the module is evaluated', async () => {
      expect(errorOf(await sut("const x = 1;\nthrow new Error('top level');\nexport default {}"))).toBe(
        'Error: top level at line 2',
      );
    });

    it.each([
      ['undefined', 'return undefined'],
      ['a function', 'return () => 1'],
      ['a symbol', "return Symbol('s')"],
    ])('rejects %s as a result', async (_, body) => {
      expect(errorOf(await sut(`export default { onCall() { ${body} } }`))).toBe('result is not JSON-serialisable');
    });

    it.each([
      ['a cycle', 'const a = {}; a.self = a; return a'],
      ['a BigInt', 'return { big: 1n }'],
    ])('rejects %s as a result, saying why', async (_, body) => {
      expect(errorOf(await sut(`export default { onCall() { ${body} } }`))).toMatch(
        /^result is not JSON-serialisable \(TypeError: .+\)$/,
      );
    });

    it('refuses params that cannot be passed in as JSON', async () => {
      expect(toSandboxRequest({ ...baseJob(), params: { n: 1n } })).toMatch(/^params is not JSON-serialisable/);
    });
  });

  describe('limits', () => {
    it('interrupts an endless loop at max_run_time', async () => {
      const started = Date.now();
      const outcome = await sut('export default { onCall() { while (true) {} } }', { limits: { maxRunTimeMs: 300 } });

      expect(errorOf(outcome)).toMatch(/^max_run_time exceeded/);
      expect(Date.now() - started).toBeLessThan(2000);
    });

    it('interrupts an endless loop during module evaluation', async () => {
      const outcome = await sut('for (;;) {}\nexport default {}', { limits: { maxRunTimeMs: 300 } });

      expect(errorOf(outcome)).toMatch(/^max_run_time exceeded/);
    });

    it('does not let the script catch the interrupt', async () => {
      const outcome = await sut('export default { onCall() { try { for (;;) {} } catch (e) { return "caught" } } }', {
        limits: { maxRunTimeMs: 300 },
      });

      expect(errorOf(outcome)).toMatch(/^max_run_time exceeded/);
    });

    it('interrupts an endless microtask chain', async () => {
      const outcome = await sut('export default { async onCall() { for (;;) await null } }', {
        limits: { maxRunTimeMs: 300 },
      });

      expect(errorOf(outcome)).toMatch(/^max_run_time exceeded/);
    });

    it('ends a handler whose promise can never settle without waiting out the clock', async () => {
      const started = Date.now();
      const outcome = await sut('export default { onCall() { return new Promise(() => {}) } }');

      expect(errorOf(outcome)).toMatch(/^max_run_time: onCall returned a promise that can never settle/);
      expect(Date.now() - started).toBeLessThan(1000);
    });

    it.each([
      ['one huge array', 'return new Array(1e8).fill(0).length'],
      ['many small arrays', 'const keep = []; for (;;) keep.push(new Array(1000).fill(1))'],
      ['map entries the heap estimate cannot see', "const m = new Map(); for (let i = 0; ; i++) m.set(i, 'x'.repeat(1e5) + i)"],
      ['strings kept in an array', "const keep = []; for (let i = 0; ; i++) keep.push('x'.repeat(1e5) + i)"],
    ])('stops %s at max_heap_size', async (_, body) => {
      const outcome = await sut(`export default { onCall() { ${body} } }`, { limits: { maxRunTimeMs: 10_000 } });

      expect(errorOf(outcome)).toMatch(/^max_heap_size exceeded/);
    });

    it('keeps the QuickJS module usable after a heap failure', async () => {
      await sut('export default { onCall() { const keep = []; for (;;) keep.push({ a: [1, 2, 3] }) } }');

      expect(await sut('export default { onCall: () => 1 }')).toEqual({ ok: true, result: 1, console: [] });
    });

    it.each([
      ['plain recursion', 'function f() { return f() + 1 } return f()'],
      ['recursion through valueOf', 'const o = { valueOf() { return +o } }; return +o'],
    ])('stops %s at max_stack_size', async (_, body) => {
      const outcome = await sut(`export default { onCall() { ${body} } }`, { limits: { maxStackBytes: 64 * 1024 } });

      expect(errorOf(outcome)).toMatch(/^max_stack_size exceeded/);
    });

    it('lets a script recover from a stack overflow it catches itself', async () => {
      const outcome = await sut(
        'export default { onCall() { function f() { return f() } try { f() } catch (e) { return "recovered" } } }',
        { limits: { maxStackBytes: 64 * 1024 } },
      );

      expect(outcome).toEqual({ ok: true, result: 'recovered', console: [] });
    });

    it('truncates console output past the line budget', async () => {
      const outcome = await sut('export default { onCall() { for (let i = 0; i < 5000; i++) console.log(i); return 1 } }');

      expect(outcome.console).toHaveLength(CONSOLE_MAX_LINES + 1);
      expect(outcome.console.at(-1)).toBe(CONSOLE_TRUNCATED_LINE);
    });

    it('truncates console output past the byte budget', async () => {
      const outcome = await sut("export default { onCall() { for (let i = 0; i < 100; i++) console.log('x'.repeat(10000)); return 1 } }");

      expect(outcome.console.length).toBeLessThan(10);
      expect(outcome.console.at(-1)).toBe(CONSOLE_TRUNCATED_LINE);
    });
  });

  describe('isolation', () => {
    it.each([
      ['require', "return typeof require"],
      ['process', "return typeof process"],
      ['process.env via globalThis', "return typeof globalThis.process"],
      ['setTimeout', "return typeof setTimeout"],
    ])('has no %s', async (_, body) => {
      expect(await sut(`export default { onCall() { ${body} } }`)).toEqual({ ok: true, result: 'undefined', console: [] });
    });

    it('has a fetch that refuses when the server allows no hosts', async () => {
      const outcome = await sut('export default { onCall() { return fetch("http://127.0.0.1/").then(() => "fetched", (e) => e.message) } }');

      expect(outcome).toEqual({ ok: true, result: expect.stringMatching(/^fetch: disabled: .*WORKER_FETCH_ALLOW/), console: [] });
    });

    it('fails on require("fs")', async () => {
      expect(errorOf(await sut("export default { onCall() { return require('fs') } }"))).toMatch(
        /^ReferenceError: 'require' is not defined/,
      );
    });

    it('fails on process.env', async () => {
      expect(errorOf(await sut('export default { onCall() { return process.env } }'))).toMatch(
        /^ReferenceError: 'process' is not defined/,
      );
    });

    it('cannot reach the host through the Function constructor', async () => {
      const outcome = await sut(
        "export default { onCall() { return globalThis.constructor.constructor('return typeof process')() } }",
      );

      expect(outcome).toEqual({ ok: true, result: 'undefined', console: [] });
    });

    it('refuses dynamic import', async () => {
      const outcome = await sut("export default { async onCall() { const fs = await import('fs'); return Object.keys(fs) } }");

      expect(errorOf(outcome)).toMatch(/^Error: module loading is disabled in the sandbox \(requested "fs"\)/);
    });

    it('refuses static import', async () => {
      expect(errorOf(await sut("import fs from 'fs';\nexport default { onCall() { return 1 } }"))).toMatch(
        /module loading is disabled/,
      );
    });

    it('starts every run with fresh globals', async () => {
      await sut('globalThis.leak = 1; export default { onCall() { return 1 } }');

      expect(await sut('export default { onCall() { return typeof leak } }')).toEqual({
        ok: true,
        result: 'undefined',
        console: [],
      });
    });

    it('cannot break result delivery by replacing JSON', async () => {
      const outcome = await sut('JSON.stringify = () => "{not json"; export default { onCall() { return { a: 1 } } }');

      expect(outcome).toEqual({ ok: true, result: { a: 1 }, console: [] });
    });
  });
});

function baseJob(): RunJob {
  return {
    script: 'export default { onCall() {} }',
    handler: 'onCall',
    params: {},
    env: {},
    ctx: { run_type: 'call', js_result_id: 1, worker_name: 'w' },
  };
}
