import { MAX_RESULT_DEPTH } from '../src/js-worker/runtime';
import { b64, createWorker, rpcCall, runToEnd, runWorker, waitFinished } from './support/js-worker.helpers';
import { call, queryParams, rpc, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';

/** Ten minutes: a run that is not ended by the depth check would outlast every wait below. */
const LONG_RUN_MS = 600_000;

const ENDLESS_TOP_LEVEL = 'while (true) {}\nexport default { onCall() {} }';

function nestedResult(depth: number): string {
  return `export default { onCall() { let a = []; for (let i = 1; i < ${depth}; i++) a = [a]; return a } }`;
}

const depthError = (depth: number) =>
  `result is nested ${depth} levels deep; at most ${MAX_RESULT_DEPTH} levels of arrays and objects can be stored`;

/** Scripts that attack the sandbox threads or the event loop through what they do when stored or what they return. */
describe(`js-worker hostile scripts (${backendName})`, () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });

  afterAll(() => t.close());

  describe('a result nested too deep', () => {
    it(`stores and serves a result nested ${MAX_RESULT_DEPTH} deep`, async () => {
      await createWorker(t.app, t.superToken, 'deep_max', nestedResult(MAX_RESULT_DEPTH));

      const row = await runToEnd(t.app, t.superToken, 'deep_max');

      expect(row.error_message).toBeNull();
      let depth = 0;
      for (let value = row.result; Array.isArray(value); value = value[0]) depth++;
      expect(depth).toBe(MAX_RESULT_DEPTH);
    });

    it.each([MAX_RESULT_DEPTH + 1, 3000, 6000])('ends a run returning %i levels at once, naming the depth', async (depth) => {
      const name = `deep_${depth}`;
      await createWorker(t.app, t.superToken, name, nestedResult(depth), { max_run_time: LONG_RUN_MS });

      const row = await runToEnd(t.app, t.superToken, name);

      expect(row.error_message).toBe(depthError(depth));
      expect(row.result).toBeNull();
    });

    it('leaves every sandbox thread free for the next run', async () => {
      await createWorker(t.app, t.superToken, 'deep_hog', nestedResult(6000), { max_run_time: LONG_RUN_MS });
      await createWorker(t.app, t.superToken, 'deep_next', 'export default { onCall: () => "next" }');
      // As many deep runs as the pool has threads (2 in tests), then one that needs a thread.
      const hogs = await Promise.all([runWorker(t.app, t.superToken, 'deep_hog'), runWorker(t.app, t.superToken, 'deep_hog')]);

      const next = await runToEnd(t.app, t.superToken, 'deep_next');

      expect(next).toMatchObject({ result: 'next', error_message: null });
      for (const hog of hogs) {
        const row = await waitFinished(t.app, t.superToken, hog.result.id);
        expect(row.error_message).toBe(depthError(6000));
      }
    });
  });

  describe('validation of stored scripts', () => {
    it('keeps the same messages for scripts it refuses', async () => {
      const looping = await createWorker(t.app, t.superToken, 'validate_loop', ENDLESS_TOP_LEVEL);
      const broken = await createWorker(t.app, t.superToken, 'validate_syntax', 'export default {\n  onCall() {\n    return 1 +;\n  },\n}');

      expect(looping.error).toEqual({ code: 108, message: 'Invalid input: js_script_base64: max_run_time exceeded: script ran longer than 1000 ms' });
      expect(broken.error.code).toBe(108);
      expect(broken.error.message).toMatch(/^Invalid input: js_script_base64: SyntaxError: .+ at line 3, column \d+$/);
      const list = await rpcCall(t.app, 'js-worker_list_all_js_worker', { token: t.superToken });
      expect(list.result).not.toContain('validate_loop');
      expect(list.result).not.toContain('validate_syntax');
    });

    it('serves other callers while a batch of 8 creates loops at their top level', async () => {
      const batch = Array.from({ length: 8 }, (_, i) =>
        call('js-worker_create', { token: t.superToken, name: `flood_${i}`, js_script_base64: b64(ENDLESS_TOP_LEVEL) }, i + 1),
      );
      let batchDone = false;
      const flood = rpc(t.app, batch).finally(() => (batchDone = true));
      let readsDuringFlood = 0;

      while (!batchDone) {
        const read = await rpcCall(t.app, 'js-result_query', queryParams(t.superToken, [{ id: 1 }]));
        expect(read.error).toBeUndefined();
        if (!batchDone) readsDuringFlood++;
      }

      const replies = (await flood).body as { id: number; error: { code: number; message: string } }[];
      expect(replies.map((reply) => reply.error)).toEqual(
        Array.from({ length: 8 }, () => ({ code: 108, message: 'Invalid input: js_script_base64: max_run_time exceeded: script ran longer than 1000 ms' })),
      );
      // The flood holds the pool for 8 s. Validated on the main thread, it let a read through only
      // between one call and the next (at most 8); off it, reads keep going the whole time.
      expect(readsDuringFlood).toBeGreaterThan(50);
      const list = await rpcCall(t.app, 'js-worker_list_all_js_worker', { token: t.superToken });
      expect(list.result.filter((name: string) => name.startsWith('flood_'))).toEqual([]);
    });
  });
});
