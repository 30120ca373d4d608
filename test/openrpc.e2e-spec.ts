import jsonSchemaMetaSchema from '@json-schema-tools/meta-schema';
import metaSchema from '@open-rpc/meta-schema';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import request from 'supertest';
import { OpenRpcDocumentProvider, UNDESCRIBED } from '../src/json-rpc/openrpc.document';
import { RpcMethodExplorer } from '../src/json-rpc/rpc-method.explorer';
import { call, rpc, startTestApp, type TestApp } from './support/test-app';
import { inlineComponents, schemaValidator } from './support/json-schemas';
import { backendName } from './support/test-database';

/** The document the service gives of itself: the same by rpc.discover and GET, valid OpenRPC, and listing every method. */
describe(`OpenRPC discovery (${backendName})`, () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });

  afterAll(() => t.close());

  it('answers rpc.discover without a token, with no params, [] or {}', async () => {
    const replies = await Promise.all([
      rpc(t.app, { jsonrpc: '2.0', method: 'rpc.discover', id: 1 }),
      rpc(t.app, call('rpc.discover', [], 2)),
      rpc(t.app, call('rpc.discover', {}, 3)),
    ]);
    for (const { body } of replies) expect(body.result).toMatchObject({ openrpc: '1.3.2', methods: expect.any(Array) });
    expect(replies[1].body.result).toEqual(replies[0].body.result);
  });

  it('serves the same document at GET /openrpc.json', async () => {
    const res = await request(t.app.getHttpServer()).get('/openrpc.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(res.text)).toEqual((await rpc(t.app, call('rpc.discover', []))).body.result);
  });

  it('refuses rpc.discover with params, naming the first one', async () => {
    const named = await rpc(t.app, call('rpc.discover', { token: 'x' }));
    expect(named.body.error).toEqual({ code: -32602, message: 'Invalid params: token: rpc.discover takes no params', data: { path: 'token' } });
    const positional = await rpc(t.app, call('rpc.discover', [1]));
    expect(positional.body.error).toEqual({ code: -32602, message: 'Invalid params: expected at most 0 positional params [], got 1' });
  });

  it('is a valid OpenRPC document (the meta-schema, with formats)', async () => {
    const sut = (await rpc(t.app, call('rpc.discover', []))).body.result;
    // Both meta-schemas name their dialect by their own URL; it is draft-07, which Ajv knows.
    const { $schema: _openRpcDialect, ...openRpc } = metaSchema as { $schema?: string };
    const { $schema: _jsonSchemaDialect, ...jsonSchema } = jsonSchemaMetaSchema as { $schema?: string };
    const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
    // The OpenRPC meta-schema refers to it with and without the trailing slash of its $id.
    ajv.addSchema(jsonSchema);
    ajv.addSchema({ ...jsonSchema, $id: 'https://meta.json-schema.tools' });
    const validate = ajv.compile(openRpc);
    expect(validate(sut) ? [] : validate.errors).toEqual([]);
    // The check can fail: a method without its params is not OpenRPC.
    expect(validate({ ...sut, methods: [{ name: 'x' }] })).toBe(false);
  });

  it('lists every registered method, with its params in positional order', async () => {
    const registered = t.app.get(RpcMethodExplorer).registered();
    const sut = t.app.get(OpenRpcDocumentProvider).document;
    expect(sut.methods.map((m) => m.name).sort()).toEqual(registered.map((m) => m.name).sort());
    for (const method of registered) {
      expect(sut.methods.find((m) => m.name === method.name)!.params.map((p) => p.name)).toEqual([...method.params]);
    }
  });

  it('describes each param, result and example schema as valid JSON Schema, and each example against it', () => {
    const sut = t.app.get(OpenRpcDocumentProvider).document;
    const ajv = schemaValidator();
    const failures: string[] = [];
    for (const method of sut.methods) {
      const resultSchema = ajv.compile(inlineComponents(method.result.schema, sut.components.schemas));
      for (const example of method.examples) {
        if (!resultSchema(example.result.value)) failures.push(`${method.name} ${example.name} result: ${ajv.errorsText(resultSchema.errors)}`);
        for (const param of example.params) {
          const schema = inlineComponents(method.params.find((p) => p.name === param.name)!.schema, sut.components.schemas);
          if (!ajv.validate(schema, param.value)) failures.push(`${method.name} ${example.name} ${param.name}: ${ajv.errorsText()}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  /**
   * A method whose module declares no doc would still be listed (as
   * `x-undescribed`, with schemas that accept anything) rather than break the
   * document; every method registered today carries one.
   */
  it('describes every registered method', () => {
    const sut = t.app.get(OpenRpcDocumentProvider).document;
    expect(sut.methods.filter((m) => m[UNDESCRIBED]).map((m) => m.name)).toEqual([]);
    expect(sut.methods.map((m) => m.name)).toEqual(expect.arrayContaining(['js-result_query', 'crontab_create', 'crontab-result_query', 'rpc.discover']));
  });
});
