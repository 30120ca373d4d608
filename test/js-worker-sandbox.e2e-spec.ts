import { createWorker, rpcCall, runToEnd, runWorker, waitFinished } from './support/js-worker.helpers';
import { startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';

const HOST_PROBES = `
const probes = {
  require: () => require('fs'),
  process: () => process.env,
  globalProcess: () => globalThis.process.env,
  constructorTrick: () => globalThis.constructor.constructor('return process')().env,
  functionTrick: () => Function('return this')().process.mainModule,
  arrowConstructorTrick: () => (() => {}).constructor('return process')().pid,
  asyncFunctionTrick: () => (async () => {}).constructor('return process')(),
  errorStackTrick: () => { Error.prepareStackTrace = (_, frames) => frames[0].getThis(); return new Error().stack.process },
  fetch: () => fetch('http://127.0.0.1:1/'),
  timers: () => setTimeout(() => {}, 0),
  buffer: () => Buffer.from('x'),
  worker: () => new Worker('x'),
  webAssembly: () => WebAssembly.Module,
  std: () => std.loadFile('/etc/passwd'),
  os: () => os.exec(['id']),
};
const imports = ['fs', 'node:fs', 'child_process', 'std', 'os', '/etc/passwd', 'file:///etc/passwd', 'data:text/javascript,export default 1'];

export default {
  async onCall() {
    const reached = [];
    const blocked = {};
    for (const [name, probe] of Object.entries(probes)) {
      try {
        // Reaching the host means getting something back; undefined is nothing.
        if ((await probe()) !== undefined) reached.push(name);
        else blocked[name] = 'undefined';
      } catch (e) {
        blocked[name] = String(e && e.message);
      }
    }
    for (const specifier of imports) {
      try {
        await import(specifier);
        reached.push('import ' + specifier);
      } catch (e) {
        blocked['import ' + specifier] = String(e && e.message);
      }
    }
    const globals = Object.getOwnPropertyNames(globalThis).filter((n) => /^(require|process|module|exports|global|std|os|Buffer|__dirname|__filename)$/.test(n));
    return { reached, blocked, globals };
  },
};
`;

/** A script cannot reach the host, and one run cannot affect another or the server. */
describe(`js-worker sandbox (${backendName})`, () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });

  afterAll(() => t.close());

  it('refuses every way to the host from inside the sandbox', async () => {
    await createWorker(t.app, t.superToken, 'probe_host', HOST_PROBES);
    const row = await runToEnd(t.app, t.superToken, 'probe_host');
    expect(row.error_message).toBeNull();
    expect(row.result.reached).toEqual([]);
    expect(row.result.globals).toEqual([]);
    expect(row.result.blocked.require).toBe("'require' is not defined");
    expect(row.result.blocked.process).toBe("'process' is not defined");
    expect(row.result.blocked['import fs']).toContain('module loading is disabled');
    expect(row.result.blocked['import node:fs']).toContain('module loading is disabled');
  });

  it('refuses a static import when the script is stored', async () => {
    const body = await createWorker(t.app, t.superToken, 'probe_static', "import { readFileSync } from 'fs';\nexport default { onCall: () => readFileSync('/etc/passwd', 'utf8') }");
    expect(body.error.code).toBe(108);
    expect(body.error.message).toContain('module loading is disabled');
  });

  it('gives every run a fresh realm: globals and prototypes changed by one run are gone in the next', async () => {
    await createWorker(
      t.app,
      t.superToken,
      'probe_pollute',
      `export default { onCall(params) {
        const seen = { leak: typeof globalThis.leak, polluted: ({}).polluted, json: JSON.stringify({ a: 1 }) };
        globalThis.leak = 1;
        Object.prototype.polluted = 'yes';
        JSON.stringify = () => 'hijacked';
        return seen;
      } }`,
    );
    const clean = { leak: 'undefined', json: '{"a":1}' };
    expect((await runToEnd(t.app, t.superToken, 'probe_pollute')).result).toEqual(clean);
    expect((await runToEnd(t.app, t.superToken, 'probe_pollute')).result).toEqual(clean);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps answering js-result_query within 100 ms while a CPU-bound script runs', async () => {
    await createWorker(t.app, t.superToken, 'cpu_warm', 'export default { onCall: () => 1 }');
    await createWorker(
      t.app,
      t.superToken,
      'cpu_busy',
      "export default { onCall() { const end = Date.now() + 1500; let n = 0; while (Date.now() < end) n++; return 'done' } }",
    );
    // Warm both sandbox threads and the query path, so that only the steady state is measured.
    await Promise.all([runToEnd(t.app, t.superToken, 'cpu_warm'), runToEnd(t.app, t.superToken, 'cpu_warm')]);
    const query = () => rpcCall(t.app, 'js-result_query', { token: t.superToken, query: { condition: [{ js_worker_name: 'cpu_warm' }, 'last'] } });
    for (let i = 0; i < 3; i++) await query();

    const started = await runWorker(t.app, t.superToken, 'cpu_busy');
    const runStartedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 100)); // the thread is now inside the busy loop
    const timings: number[] = [];
    let lastAnsweredAt = 0;
    for (let i = 0; i < 12; i++) {
      const before = performance.now();
      const body = await query();
      timings.push(performance.now() - before);
      lastAnsweredAt = Date.now();
      expect(body.result).toHaveLength(1);
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    const row = await waitFinished(t.app, t.superToken, started.result.id);

    expect(row.result).toBe('done');
    // Every measurement fell inside the run: a script blocking the main loop could not pass this.
    expect(row.finish_time).toBeGreaterThan(lastAnsweredAt);
    expect(lastAnsweredAt - runStartedAt).toBeGreaterThan(800);
    const sorted = [...timings].sort((a, b) => a - b);
    // p90 of 12 calls within 100 ms; one outlier is tolerated on this noisy 2-core machine, but not a blocked loop.
    expect(sorted[10]).toBeLessThan(100);
    expect(sorted[11]).toBeLessThan(300);
  });
});
