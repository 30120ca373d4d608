import { EXAMPLE_TOKEN } from '../src/json-rpc/openrpc.schemas';
import { OpenRpcDocumentProvider, type OpenRpcMethod } from '../src/json-rpc/openrpc.document';
import { T0 } from './support/fixtures';
import { inlineComponents, schemaValidator } from './support/json-schemas';
import { seed, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';
import { closeAllClients, wsUrl, WsRpcClient } from './support/ws-client';

/**
 * The document is truthful: every example call of every method, made on a
 * seeded database (over WebSocket, which every method accepts), answers with a
 * result that its method's declared result schema accepts.
 */
describe(`OpenRPC examples against the running service (${backendName})`, () => {
  let t: TestApp;
  let ws: WsRpcClient;

  beforeAll(async () => {
    t = await startTestApp();
    await t.app.listen(0, '127.0.0.1');
    ws = await WsRpcClient.connect(wsUrl(t.app));
  });

  afterAll(async () => {
    await closeAllClients();
    await t.close();
  });

  /** Deletes last, so that the reads before them find the seeded rows. */
  const order = (m: OpenRpcMethod) => (/delete/.test(m.name) ? 1 : 0);

  /**
   * Values only a run can know, taken from an earlier example's result: the
   * subscription to end, the run whose console to read, the policy to delete.
   */
  const FROM_EARLIER: Record<string, { method: string; pick: (result: any) => unknown }> = {
    'js-result_unsubscribe.subscription': { method: 'js-result_subscribe', pick: (result) => result },
    'js-worker_run_console.id': { method: 'js-worker_run', pick: (result) => result.id },
    'js-result_retention_delete.id': { method: 'js-result_retention_set', pick: (result) => result.id },
  };

  it('answers every example with a result its schema accepts', async () => {
    await seed(t.dataSource, [
      { jsWorkerName: 'demo_worker', jsWorkerId: 10, startTime: T0, finishTime: T0 + 123, param: { hello: 'world' }, result: { ok: true } },
      { jsWorkerName: 'demo_worker', jsWorkerId: 10, startTime: T0 + 1000, finishTime: T0 + 1100, errorMessage: 'boom' },
    ]);
    await t.token([], { username: 'demo_user', password: 'a long password' });
    const sut = t.app.get(OpenRpcDocumentProvider).document;
    const ajv = schemaValidator();
    const results = new Map<string, unknown>();
    const examples: string[] = [];
    const checked: string[] = [];
    const failures: string[] = [];
    let id = 0;
    for (const method of [...sut.methods].sort((a, b) => order(a) - order(b))) {
      const validate = ajv.compile(inlineComponents(method.result.schema, sut.components.schemas));
      for (const example of method.examples) {
        examples.push(`${method.name} "${example.name}"`);
        const params = Object.fromEntries(
          example.params.map(({ name, value }) => {
            const earlier = FROM_EARLIER[`${method.name}.${name}`];
            if (earlier !== undefined) return [name, earlier.pick(results.get(earlier.method))];
            return [name, value === EXAMPLE_TOKEN ? t.superToken : value];
          }),
        );
        const reply = await ws.call({ jsonrpc: '2.0', id: ++id, method: method.name, params });
        if ('error' in reply) failures.push(`${method.name} "${example.name}": ${JSON.stringify(reply.error)}`);
        else if (!validate(reply.result)) failures.push(`${method.name} "${example.name}": ${ajv.errorsText(validate.errors)}`);
        else checked.push(`${method.name} "${example.name}"`);
        results.set(method.name, reply.result);
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toEqual(examples);
    expect(new Set(checked.map((c) => c.split(' ')[0]))).toEqual(new Set(sut.methods.filter((m) => m.examples.length > 0).map((m) => m.name)));
  });
});
