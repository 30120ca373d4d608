import { Logger } from '@nestjs/common';
import { MAX_JSON_DEPTH } from '../src/common/json-depth';
import { b64, waitFinished } from './support/js-worker.helpers';
import { call, queryParams, rpc, seed, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';

const READ_ALL = [{ scopes: ['global'], permissions: [{ js_result: { read: '*' } }] }];
const INVALID_CREDENTIALS = { code: 102, message: 'Permission denied: Invalid credentials' };
const NUL = 'a NUL character (U+0000), which cannot be stored';
const LONE = (code: string) => `an unpaired surrogate (U+${code}), which cannot be stored`;
/** The tables a call could change; js_worker_active_run and the like change by themselves and say nothing here. */
const WATCHED_TABLES = ['token', 'js_result', 'js_worker', 'audit_log', 'js_result_retention'];

/**
 * Text PostgreSQL cannot store (U+0000 in `text` and `jsonb`, unpaired
 * surrogates from `\uD800` escapes) is refused before anything reaches the
 * database (issue 24 #6): in a credential like any bad credential (102),
 * anywhere else -32602 naming where it is. Before, each of these was a
 * -32603 logged as an error with its stack. Every refusal leaves every table
 * as it was and logs nothing.
 */
describe(`text the database cannot store is refused at the edge (${backendName})`, () => {
  let t: TestApp;
  let logged: jest.SpyInstance[];

  beforeAll(async () => {
    t = await startTestApp();
    await t.tokens.create({ limits: READ_ALL, username: 'ann', password: 'ann-password' });
    await seed(t.dataSource, [{ jsWorkerName: 'w1', result: 1 }]);
    const script = 'export default { async onCall(params) { return params; } };';
    const created = await rpc(t.app, call('js-worker_create', { token: t.superToken, name: 'echo', js_script_base64: b64(script) }));
    expect(created.body.error).toBeUndefined();
  });

  afterAll(() => t.close());

  const snapshot = async () => {
    const tables: Record<string, unknown[]> = {};
    for (const table of WATCHED_TABLES) tables[table] = await t.dataSource.query(`SELECT * FROM ${table} ORDER BY 1`);
    return tables;
  };

  beforeEach(() => {
    logged = [jest.spyOn(Logger.prototype, 'error'), jest.spyOn(Logger.prototype, 'warn')];
  });

  afterEach(() => {
    for (const spy of logged) spy.mockRestore();
  });

  /** `body` is sent as it is: JSON text JSON.stringify would not write (numbers past a double, `__proto__` members). */
  async function expectRawRefused(body: string, error: object): Promise<void> {
    const before = await snapshot();
    expect((await rpc(t.app, body)).body.error).toEqual(error);
    expect(await snapshot()).toEqual(before);
    for (const spy of logged) expect(spy).not.toHaveBeenCalled();
  }

  const expectRefused = (method: string, params: unknown, error: { code: number; message: string }) => expectRawRefused(JSON.stringify(call(method, params)), error);

  const invalid = (message: string) => ({ code: -32602, message: `Invalid params: ${message}`, data: { path: message.slice(0, message.indexOf(': ')) } });
  const superToken = () => t.superToken;

  describe('in a credential: 102, as any bad credential', () => {
    it.each<[string, () => string]>([
      ['in a key', () => `${superToken().slice(0, 4)}\u0000${superToken().slice(5)}`],
      ['in a secret', () => `${superToken()}\u0000`],
      ['in a username', () => 'an\u0000n|ann-password'],
      ['in a password', () => 'ann|ann-pass\u0000word'],
      ['as an unpaired surrogate in a username', () => 'ann\ud800|ann-password'],
    ])('%s', async (_label, credential) => {
      await expectRefused('js-result_query', queryParams(credential(), [{ limit: 1 }]), INVALID_CREDENTIALS);
      await expectRefused('token_get', { token: credential() }, INVALID_CREDENTIALS);
    });

    it("in token_create's father_token and token_get's supertoken", async () => {
      await expectRefused('token_create', { father_token: `${superToken()}\u0000`, token_creation: { token_limit: [] } }, INVALID_CREDENTIALS);
      await expectRefused('token_get', { token: 'ann', supertoken: `${superToken()}\u0000` }, INVALID_CREDENTIALS);
    });

    it("in the token token_get is asked about by the super token: names no token (105), and is not looked up", async () => {
      await expectRefused('token_get', { token: 'an\u0000n', supertoken: superToken() }, {
        code: 105,
        message: 'Not found in database: Token not found by key/username: an\u0000n',
      });
    });
  });

  describe('anywhere else: -32602 naming where', () => {
    it('in a condition value, at its position', async () => {
      const condition = [{ limit: 5 }, 'last', { js_worker_name: 'w\u00001' }];
      await expectRefused('js-result_query', queryParams(superToken(), condition), invalid(`query.condition[2].js_worker_name: contains ${NUL}`));
      await expectRefused('js-result_delete', queryParams(superToken(), condition), invalid(`query.condition[2].js_worker_name: contains ${NUL}`));
      await expectRefused('js-result_count', queryParams(superToken(), [{ js_worker_name: '\udc00' }]), invalid(`query.condition[0].js_worker_name: contains ${LONE('DC00')}`));
    });

    it('in a retention pattern', async () => {
      await expectRefused('js-result_retention_set', { token: superToken(), js_worker: 'w\u0000*', keep_days: 3 }, invalid(`js_worker: contains ${NUL}`));
    });

    it("in token_create's username, password and limits", async () => {
      const create = (token_creation: object) => ({ father_token: superToken(), token_creation: { token_limit: READ_ALL, ...token_creation } });
      await expectRefused('token_create', create({ username: 'bo\u0000b', password: 'pw' }), invalid(`token_creation.username: contains ${NUL}`));
      await expectRefused('token_create', create({ username: 'bob', password: 'p\u0000w' }), invalid(`token_creation.password: contains ${NUL}`));
      await expectRefused(
        'token_create',
        { father_token: superToken(), token_creation: { token_limit: [{ scopes: [{ js_worker: 'x\u0000' }], permissions: [] }] } },
        invalid(`token_creation.token_limit[0].scopes[0].js_worker: contains ${NUL}`),
      );
      await expectRefused(
        'token_create',
        { father_token: superToken(), token_creation: { token_limit: [{ scopes: [], permissions: [], 'x\u0000': 1 }] } },
        invalid(`token_creation.token_limit[0]: the member name "x\\u0000" contains ${NUL}`),
      );
    });

    it('in a target and a new password', async () => {
      for (const method of ['token_delete', 'token_roll_token_secret']) {
        await expectRefused(method, { token: superToken(), target_token: 'an\u0000n' }, invalid(`target_token: contains ${NUL}`));
      }
      await expectRefused('token_edit', { token: superToken(), target_token: 'ann\ud83d', limit: [] }, invalid(`target_token: contains ${LONE('D83D')}`));
      await expectRefused('token_change_password', { token: superToken(), target_token: 'ann', new_password: 'n\u0000ew' }, invalid(`new_password: contains ${NUL}`));
    });

    it("in a worker's name, env and description, and the name a call names", async () => {
      const script = b64('export default { async onCall() { return 1; } };');
      await expectRefused('js-worker_create', { token: superToken(), name: 'ne\u0000w', js_script_base64: script }, invalid(`name: contains ${NUL}`));
      await expectRefused('js-worker_create', { token: superToken(), name: 'new', js_script_base64: script, env: { KEY: 'v\u0000' } }, invalid(`env.KEY: contains ${NUL}`));
      await expectRefused('js-worker_update', { token: superToken(), name: 'echo', description: 'd\u0000' }, invalid(`description: contains ${NUL}`));
      await expectRefused('js-worker_read', { token: superToken(), name: 'ec\u0000ho' }, invalid(`name: contains ${NUL}`));
    });

    it("in js-worker_run's params, whose JSON is stored as jsonb", async () => {
      await expectRefused('js-worker_run', { token: superToken(), js_script_name: 'echo', params: { deep: [{ text: '\u0000' }] } }, invalid(`params.deep[0].text: contains ${NUL}`));
      await expectRefused('js-worker_run', { token: superToken(), js_script_name: 'echo', params: { '\ud800': 1 } }, invalid(`params: the member name "\\ud800" contains ${LONE('D800')}`));
      await expectRefused('js-worker_run', { token: superToken(), js_script_name: 'ec\u0000ho' }, invalid(`js_script_name: contains ${NUL}`));
    });

    it('a number past the range of a double, which would be stored as null', async () => {
      const token = JSON.stringify(superToken());
      const beyond = (where: string, sign = '') => invalid(`${where}: a number beyond the range of a double (read as ${sign}Infinity), which cannot be stored`);
      await expectRawRefused(`{"jsonrpc":"2.0","id":1,"method":"js-result_query","params":{"token":${token},"query":{"condition":[{"limit":1e400}]}}}`, beyond('query.condition[0].limit'));
      await expectRawRefused(`{"jsonrpc":"2.0","id":1,"method":"js-worker_run","params":{"token":${token},"js_script_name":"echo","params":{"n":[1,-1e400]}}}`, beyond('params.n[1]', '-'));
    });

    it('by position too, named as the method names the param', async () => {
      await expectRefused('token_delete', [superToken(), 'an\u0000n'], invalid(`target_token: contains ${NUL}`));
    });

    it('before bad credentials: params are checked first', async () => {
      await expectRefused('token_delete', { token: 'nobody|wrong', target_token: 'an\u0000n' }, invalid(`target_token: contains ${NUL}`));
    });
  });

  describe('JSON shapes a recursive walk could not take: -32602 naming the param, or taken as sent', () => {
    const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
    const tooDeep = (param: string) => invalid(`${param}: nested more than ${MAX_JSON_DEPTH} levels deep; at most ${MAX_JSON_DEPTH} levels of arrays and objects are accepted`);

    /** Whether the run's stored param and result are the JSON sent, as jsonb compares them (it keeps members in its own order). */
    async function storedAsSent(id: number, sent: string): Promise<unknown> {
      const [stored] = await t.dataSource.query('SELECT param = $2::jsonb AS param_as_sent, result = $2::jsonb AS result_as_sent FROM js_result WHERE id = $1', [id, sent]);
      return stored;
    }

    it(`refuses a param nested deeper than ${MAX_JSON_DEPTH} levels (a condition list, a run's params)`, async () => {
      const token = JSON.stringify(superToken());
      await expectRawRefused(`{"jsonrpc":"2.0","id":1,"method":"js-result_query","params":{"token":${token},"query":{"condition":${nested(100_000)}}}}`, tooDeep('query'));
      await expectRawRefused(`{"jsonrpc":"2.0","id":1,"method":"js-worker_run","params":{"token":${token},"js_script_name":"echo","params":${nested(MAX_JSON_DEPTH + 1)}}}`, tooDeep('params'));
    });

    it('refuses whole a body holding an integer too long for a double and nested past any request: its parser recurses', async () => {
      const body = `{"jsonrpc":"2.0","id":12345678901234567890,"method":"js-result_query","params":{"token":${JSON.stringify(superToken())},"query":{"condition":${nested(100_000)}}}}`;
      await expectRawRefused(body, {
        code: -32600,
        message: `Invalid Request: the body is nested 100003 levels deep; a request nests at most ${MAX_JSON_DEPTH + 3} (params at most ${MAX_JSON_DEPTH})`,
      });
    });

    it(`runs a worker on params nested ${MAX_JSON_DEPTH} levels, stored and echoed as sent`, async () => {
      const sent = nested(MAX_JSON_DEPTH);
      const started = await rpc(t.app, `{"jsonrpc":"2.0","id":1,"method":"js-worker_run","params":{"token":${JSON.stringify(superToken())},"js_script_name":"echo","params":${sent}}}`);
      const row = await waitFinished(t.app, superToken(), started.body.result.id);
      expect(row.error_message).toBeNull();
      expect(await storedAsSent(row.id, sent)).toEqual({ param_as_sent: true, result_as_sent: true });
    });

    it('takes members named constructor and __proto__ as any other name: an unknown condition, params stored as sent', async () => {
      const token = JSON.stringify(superToken());
      await expectRawRefused(
        `{"jsonrpc":"2.0","id":1,"method":"js-result_query","params":{"token":${token},"query":{"condition":[{"constructor":{"prototype":{"x":1}}}]}}}`,
        {
          code: -32602,
          message: expect.stringMatching(/^Invalid params: query\.condition\[0\]: unknown condition "constructor"; expected one of id, js_worker_id, /),
          data: { path: 'query.condition[0]' },
        },
      );
      const sent = '{"constructor":{"prototype":1},"__proto__":{"polluted":true},"list":[{"constructor":"x"}]}';
      const started = await rpc(t.app, `{"jsonrpc":"2.0","id":1,"method":"js-worker_run","params":{"token":${token},"js_script_name":"echo","params":${sent}}}`);
      const row = await waitFinished(t.app, superToken(), started.body.result.id);
      expect(await storedAsSent(row.id, sent)).toEqual({ param_as_sent: true, result_as_sent: true });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it(`refuses an inline call's params nested deeper than ${MAX_JSON_DEPTH} levels in the script, writing no row for it`, async () => {
      const script = `export default { async onCall() { let p = []; for (let i = 0; i < ${MAX_JSON_DEPTH}; i++) p = [p]; try { await inlineCall("echo", p); return 'called' } catch (e) { return e.message } } }`;
      expect((await rpc(t.app, call('js-worker_create', { token: superToken(), name: 'deep_caller', js_script_base64: b64(script) }))).body.error).toBeUndefined();
      const started = await rpc(t.app, call('js-worker_run', { token: superToken(), js_script_name: 'deep_caller' }));
      const row = await waitFinished(t.app, superToken(), started.body.result.id);
      expect(row.result).toBe(`inlineCall: params: nested more than ${MAX_JSON_DEPTH} levels deep; at most ${MAX_JSON_DEPTH} levels of arrays and objects are accepted`);
      expect(await t.dataSource.query(`SELECT id FROM js_result WHERE run_type = 'inline_call'`)).toEqual([]);
    });
  });

  it('text the database can store, emoji included, still works', async () => {
    const reply = await rpc(t.app, call('js-result_query', queryParams(superToken(), [{ js_worker_name: 'w1 \u{1F600}' }])));
    expect(reply.body).toMatchObject({ result: [] });
  });
});
