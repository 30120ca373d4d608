import fc from 'fast-check';
import { call, rpc, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';

/** A token with a little of every kind, so the permission paths run as well as the super token's. */
const SOME_OF_EACH = [
  {
    scopes: [{ js_worker: 'a*' }, 'global'],
    permissions: [{ js_result: { read: 'a*' } }, { js_worker: 'list_all_js_worker' }, { crontab: 'read' }, { crontab_result: { read: 'x*' } }],
  },
];

/** Values that sat at the edge of some parser: bounds of integers and doubles, pattern characters, empties, members named as Object's own. */
const EDGE_VALUES = [
  ...[0, -0, -1, 1.5, 2 ** 53, 2 ** 63, 1e21, -1e21],
  ...['', ' ', '*', '%', '_', '\\', 'a*', '*a', 'é', 'x'.repeat(300)],
  ...[[], {}, null, true, [{ constructor: { prototype: 1 } }], JSON.parse('{"__proto__": {"polluted": 1}}')],
];

const anyParam = fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.constantFrom(...EDGE_VALUES));

/** `js-result_wait` is left out: a fuzzed timeout_ms is a wait of up to a minute, by design. */
const NOT_FUZZED = new Set(['js-result_wait']);

interface MethodDoc {
  name: string;
  params: { name: string }[];
}

/**
 * Whatever JSON a client puts in the params of any method, named or by
 * position, the call is answered with a result or a specific error: never
 * -32603, which would mean some value reached code that did not expect it
 * (a member named `constructor` once did, and an id of 1e21). The methods
 * come from the service's own OpenRPC document, so a new method is fuzzed
 * without being listed here.
 */
describe(`any JSON in any param is answered, never with an internal error (${backendName})`, () => {
  let t: TestApp;
  let methods: MethodDoc[];
  let tokens: { super: string; limited: string };

  beforeAll(async () => {
    t = await startTestApp();
    const discovered = await rpc(t.app, call('rpc.discover', {}));
    methods = (discovered.body.result.methods as MethodDoc[]).filter((method) => !NOT_FUZZED.has(method.name));
    tokens = { super: t.superToken, limited: await t.token(SOME_OF_EACH) };
  });

  afterAll(() => t.close());

  it('lists the methods it fuzzes from the OpenRPC document', () => {
    expect(methods.map((method) => method.name)).toEqual(expect.arrayContaining(['js-result_query', 'js-worker_run', 'token_create', 'crontab_create']));
  });

  it.each(['super', 'limited'] as const)('with the %s token', async (kind) => {
    for (const method of methods) {
      const names = method.params.map((param) => param.name);
      const credential = names.includes('father_token') ? 'father_token' : 'token';
      const others = names.filter((name) => name !== credential);
      const params = fc.record(Object.fromEntries(others.map((name) => [name, anyParam])), { requiredKeys: [] });
      await fc.assert(
        fc.asyncProperty(params, fc.boolean(), async (values, byPosition) => {
          const named: Record<string, unknown> = { [credential]: tokens[kind], ...values };
          const reply = await rpc(t.app, call(method.name, byPosition ? names.map((name) => named[name]) : named, 7));
          // The whole reply is in the failure message, with the method and the params fast-check shrank to.
          expect({ method: method.name, status: reply.status, id: reply.body?.id, internal: reply.body?.error?.code === -32603, reply: reply.text.slice(0, 300) }).toEqual({
            method: method.name,
            status: 200,
            id: 7,
            internal: false,
            reply: expect.any(String),
          });
        }),
        { numRuns: 40 },
      );
    }
  });
});
