import { loadQuickJS, type QuickJSEngine } from './quickjs.loader';
import { RUNTIME_KEEPER_DEFAULTS, RuntimeKeeper, type RuntimeKeeperOptions } from './runtime.keeper';
import type { RunJob, RunOutcome } from './runtime.types';
import { runScript } from './script-runner';
import { toSandboxRequest } from './sandbox.protocol';
import { compactGuestSource } from './guest-source';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs on the thread's warm runtime: each with a fresh context and limits of its own. */
describe(RuntimeKeeper.name, () => {
  let engine: QuickJSEngine;

  beforeAll(async () => {
    engine = await loadQuickJS(256 * 1024 * 1024);
  });

  const keeperWith = (options: Partial<RuntimeKeeperOptions> = {}) => new RuntimeKeeper(engine, { ...RUNTIME_KEEPER_DEFAULTS, ...options });

  function run(keeper: RuntimeKeeper, script: string, overrides: Partial<RunJob> = {}): Promise<RunOutcome> {
    const request = toSandboxRequest({ script, handler: 'onCall', params: null, env: {}, ctx: { run_type: 'call', js_result_id: 1, worker_name: 'w' }, ...overrides });
    if (typeof request === 'string') throw new Error(request);
    return runScript(engine, request, undefined, keeper);
  }

  const resultOf = (outcome: RunOutcome) => {
    if (!outcome.ok) throw new Error(`expected success, got ${outcome.error}`);
    return outcome.result;
  };
  const errorOf = (outcome: RunOutcome) => {
    if (outcome.ok) throw new Error(`expected failure, got ${JSON.stringify(outcome.result)}`);
    return outcome.error;
  };

  it('serves many runs with one runtime, and no run sees what an earlier one left in its realm', async () => {
    const keeper = keeperWith();
    const writer = `export default { onCall() {
      globalThis.leak = 'secret';
      Array.prototype.leaked = 1;
      JSON.stringify = () => 'hijacked';
      Object.defineProperty(Object.prototype, 'then', { get() { return 'x' }, configurable: true });
      return 'written';
    } }`;
    const reader = `export default { onCall() {
      return [typeof globalThis.leak, typeof [].leaked, JSON.stringify({ a: 1 }), typeof ({}).then, typeof console.log, typeof nodeget];
    } }`;
    expect(resultOf(await run(keeper, writer))).toBe('written');
    expect(resultOf(await run(keeper, reader))).toEqual(['undefined', 'undefined', '{"a":1}', 'undefined', 'function', 'function']);
    expect(resultOf(await run(keeper, writer))).toBe('written');
    expect(resultOf(await run(keeper, reader))).toEqual(['undefined', 'undefined', '{"a":1}', 'undefined', 'function', 'function']);
    expect(keeper.runtimesCreated).toBe(1);
    expect(keeper.holding).toBe(true);
    keeper.release();
    expect(keeper.holding).toBe(false);
  });

  it('still stops each run at its own heap, stack and time limits, and then starts afresh', async () => {
    const keeper = keeperWith();
    const hog = 'export default { onCall() { const a = []; for (;;) a.push({ n: a.length, s: "x".repeat(64) }) } }';
    const deep = 'export default { onCall() { const f = (n) => f(n + 1) + 1; return f(0) } }';
    const spin = 'export default { onCall() { for (;;) {} } }';
    const trivial = 'export default { onCall: () => 1 }';
    expect(resultOf(await run(keeper, trivial))).toBe(1);
    expect(errorOf(await run(keeper, hog, { limits: { maxHeapBytes: 2 * 1024 * 1024 } }))).toMatch(/^max_heap_size/);
    expect(resultOf(await run(keeper, trivial))).toBe(1);
    expect(errorOf(await run(keeper, hog, { limits: { maxHeapBytes: 2 * 1024 * 1024 } }))).toMatch(/^max_heap_size/);
    expect(errorOf(await run(keeper, deep, { limits: { maxStackBytes: 64 * 1024 } }))).toMatch(/^max_stack_size|stack/i);
    expect(errorOf(await run(keeper, spin, { limits: { maxRunTimeMs: 50 } }))).toMatch(/^max_run_time/);
    expect(resultOf(await run(keeper, trivial))).toBe(1);
    // A run that breached a limit is its runtime's last: the next one gets a new runtime.
    expect(keeper.runtimesCreated).toBeGreaterThanOrEqual(4);
  });

  it('gives a heap-limited run the same room on a warm runtime as on a fresh one', async () => {
    // Fills about three quarters of a 2 MiB heap: within it however many runs came before.
    const fill = 'export default { onCall() { const a = []; for (let i = 0; i < 12000; i++) a.push({ i }); return a.length } }';
    const limits = { maxHeapBytes: 2 * 1024 * 1024 };
    const keeper = keeperWith();
    for (let i = 0; i < 20; i++) expect(resultOf(await run(keeper, fill, { limits }))).toBe(12000);
  });

  it('does not keep a runtime whose run left jobs pending', async () => {
    const keeper = keeperWith();
    const leaves = 'export default { onCall() { Promise.resolve().then(() => { for (;;) {} }); return "done" } }';
    expect(resultOf(await run(keeper, leaves))).toBe('done');
    expect(keeper.holding).toBe(false);
    expect(resultOf(await run(keeper, 'export default { onCall: () => 2 }', { limits: { maxRunTimeMs: 1000 } }))).toBe(2);
    expect(keeper.runtimesCreated).toBe(2);
  });

  it('releases a runtime left idle, and one that served its share of runs', async () => {
    const idle = keeperWith({ idleMs: 20 });
    await run(idle, 'export default { onCall: () => 1 }');
    expect(idle.holding).toBe(true);
    await sleep(200);
    expect(idle.holding).toBe(false);
    await run(idle, 'export default { onCall: () => 1 }');
    expect(idle.runtimesCreated).toBe(2);

    const worn = keeperWith({ maxRuns: 3 });
    for (let i = 0; i < 7; i++) await run(worn, 'export default { onCall: () => 1 }');
    expect(worn.runtimesCreated).toBe(3);
    worn.release();
    idle.release();
  });
});

describe(compactGuestSource.name, () => {
  it('drops indentation and comment lines but keeps every line where it was', () => {
    const source = "(function () {\n  // why\n  const a = 'x // y';\n    return a; // kept\n})";
    const compact = compactGuestSource(source);
    expect(compact).toBe("(function () {\n\nconst a = 'x // y';\nreturn a; // kept\n})");
    expect(compact.split('\n')).toHaveLength(source.split('\n').length);
  });
});
