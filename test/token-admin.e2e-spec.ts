import { createHash, randomBytes } from 'node:crypto';
import { call, countRows, queryParams, rpc, type RpcReply, seed, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';

const limit = (scopes: unknown[], permissions: unknown[]) => ({ scopes, permissions });
const read = (p: string) => ({ js_result: { read: p } });
const READ_ALL = [limit(['global'], [read('*')])];
const READ_BETA = [limit([{ js_worker: 'beta' }], [read('beta')])];

const INVALID_CREDENTIALS = { code: 102, message: 'Permission denied: Invalid credentials' };
const UNPARSEABLE = {
  code: 101,
  message: "Parse error: Failed to parse token: Invalid token format: must be 'key:secret' or 'username|password'",
};
const EMPTY_TARGET = { code: 108, message: 'Invalid input: target_token cannot be empty' };
/** NodeGet's text (TOKENS.md), naming the key or username only. */
const notFound = (name: string) => ({ code: 105, message: `Not found in database: Token not found by key/username: ${name}` });
const SECRET_FIELDS = ['secret', 'token_hash', 'password_hash'];

/** NodeGet's own hash (JSRESULT §4), computed here rather than borrowed from src so a change there cannot hide. */
const nodeGetHash = (text: string) => createHash('sha256').update(`NODEGET${text}`).digest('hex');

const keyOf = (credential: string) => credential.slice(0, credential.indexOf(':'));
const secretOf = (credential: string) => credential.slice(credential.indexOf(':') + 1);

function keysDeep(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysDeep);
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [k, ...keysDeep(v)]);
  return [];
}

/** Contract: token objects never carry a secret or a hash, under any name we know of, nor the text itself. */
function expectNoSecrets(reply: RpcReply, secrets: string[]): void {
  expect(keysDeep(reply.body.result)).toEqual(expect.not.arrayContaining(SECRET_FIELDS));
  for (const secret of secrets) expect(reply.text).not.toContain(secret);
}

describe(`token administration (${backendName})`, () => {
  let t: TestApp;
  /** The super credential; reassigned when the super token's own secret is rolled. */
  let root: string;
  let serial = 0;
  /** Usernames must be unique across the whole describe, which shares one database. */
  const uniqueName = (prefix: string) => `${prefix}${++serial}`;

  const send = (method: string, params: unknown) => rpc(t.app, call(method, params));

  const snapshot = async () => ({
    tokens: await t.dataSource.query('SELECT * FROM token ORDER BY id'),
    audit: Number((await t.dataSource.query('SELECT count(*)::int AS n FROM audit_log'))[0].n),
  });

  /** Every refusal must leave the token table and the audit log exactly as they were. */
  async function expectRefused(method: string, params: unknown, error: { code: number; message?: string | RegExp }): Promise<RpcReply> {
    const before = await snapshot();
    const reply = await send(method, params);
    expect(reply.body.result).toBeUndefined();
    expect(reply.body.error?.code).toBe(error.code);
    if (typeof error.message === 'string') expect(reply.body.error.message).toBe(error.message);
    if (error.message instanceof RegExp) expect(reply.body.error.message).toMatch(error.message);
    expect(await snapshot()).toEqual(before);
    return reply;
  }

  async function expectResult(method: string, params: unknown): Promise<RpcReply> {
    const reply = await send(method, params);
    expect(reply.body.error).toBeUndefined();
    return reply;
  }

  interface Made {
    credential: string;
    key: string;
    secret: string;
    username?: string;
    password?: string;
  }

  async function makeToken(limits: unknown = READ_ALL, account?: { username: string; password: string }): Promise<Made> {
    const credential = await t.token(limits, account ?? {});
    return { credential, key: keyOf(credential), secret: secretOf(credential), ...account };
  }

  const makeAccount = (limits: unknown = READ_ALL) => makeToken(limits, { username: uniqueName('user'), password: `pw-${randomBytes(6).toString('hex')}` });

  const tokenRow = async (key: string) => (await t.dataSource.query('SELECT * FROM token WHERE token_key = $1', [key]))[0];

  /** The token object the contract promises for a stored row, built from the database, not from any reply. */
  async function expectedObject(key: string) {
    const row = await tokenRow(key);
    return {
      version: 1,
      token_key: row.token_key,
      timestamp_from: row.timestamp_from === null ? null : Number(row.timestamp_from),
      timestamp_to: row.timestamp_to === null ? null : Number(row.timestamp_to),
      token_limit: row.token_limit,
      username: row.username,
    };
  }

  const queryRows = async (credential: string, condition: unknown[]) => (await send('js-result_query', queryParams(credential, condition))).body;

  beforeAll(async () => {
    t = await startTestApp();
    root = t.superToken;
    await seed(t.dataSource, [
      { jsWorkerName: 'alpha', result: 1 },
      { jsWorkerName: 'alpha', result: 2 },
      { jsWorkerName: 'beta', result: 3 },
      { jsWorkerName: 'beta', result: 4 },
      { jsWorkerName: 'beta', result: 5 },
    ]);
  });

  afterAll(() => t.close());

  describe('token_get', () => {
    it('returns the caller’s own token, by key:secret or username|password, named or positional', async () => {
      const now = Date.now();
      const limits = [limit([{ js_worker: 'alpha' }], [read('alpha')])];
      const credential = await t.token(limits, { username: uniqueName('own'), password: 'own-password', timestampFrom: now - 1000, timestampTo: now + 3_600_000 });
      const [row] = await t.dataSource.query('SELECT username FROM token WHERE token_key = $1', [keyOf(credential)]);
      const expected = {
        version: 1,
        token_key: keyOf(credential),
        timestamp_from: now - 1000,
        timestamp_to: now + 3_600_000,
        token_limit: limits,
        username: row.username,
      };
      for (const params of [{ token: credential }, [credential], { token: `${row.username}|own-password` }, [`${row.username}|own-password`, null]]) {
        const reply = await expectResult('token_get', params);
        expect(reply.body.result).toStrictEqual(expected);
        expectNoSecrets(reply, [secretOf(credential), 'own-password']);
      }
    });

    it('with the super token as supertoken, finds another token by key first, then by username', async () => {
      const a = await makeToken();
      // b's username is a's key: looking it up must find a, by key.
      const b = await makeToken(READ_BETA, { username: a.key, password: 'b-password' });
      const c = await makeAccount();
      const byKey = await expectResult('token_get', { token: a.key, supertoken: root });
      expect(byKey.body.result).toStrictEqual(await expectedObject(a.key));
      expectNoSecrets(byKey, [a.secret, secretOf(root)]);
      expect((await expectResult('token_get', [b.key, root])).body.result).toStrictEqual(await expectedObject(b.key));
      expect((await expectResult('token_get', { token: c.username, supertoken: root })).body.result).toStrictEqual(await expectedObject(c.key));
    });

    it('with supertoken, checks a full credential in token as usual', async () => {
      const a = await makeAccount();
      expect((await expectResult('token_get', { token: a.credential, supertoken: root })).body.result.token_key).toBe(a.key);
      expect((await expectResult('token_get', [`${a.username}|${a.password}`, root])).body.result.token_key).toBe(a.key);
      await expectRefused('token_get', { token: `${a.key}:wrong-secret`, supertoken: root }, INVALID_CREDENTIALS);
      await expectRefused('token_get', { token: `${a.username}|wrong-password`, supertoken: root }, INVALID_CREDENTIALS);
    });

    it('with supertoken, refuses an empty target with 108 and an unknown one with 105 naming it', async () => {
      await expectRefused('token_get', { token: '', supertoken: root }, EMPTY_TARGET);
      await expectRefused('token_get', { token: 'noSuchTokenKey01', supertoken: root }, notFound('noSuchTokenKey01'));
    });

    it('refuses a supertoken that is not the super token', async () => {
      const other = await makeToken();
      const a = await makeToken();
      await expectRefused('token_get', { token: a.key, supertoken: other.credential }, { code: 102, message: /^Permission denied: / });
      await expectRefused('token_get', [a.key, `${keyOf(root)}:wrong`], INVALID_CREDENTIALS);
      await expectRefused('token_get', { token: a.key, supertoken: 'no-separator' }, UNPARSEABLE);
    });
  });

  describe('who may call what', () => {
    /** Valid params for every method, with `credential` as the caller and `target` as the token acted on. */
    const CALLS: Record<string, (credential: string, target: string) => unknown> = {
      token_create: (credential) => ({ father_token: credential, token_creation: { token_limit: [] } }),
      token_edit: (credential, target) => ({ token: credential, target_token: target, limit: READ_BETA }),
      token_delete: (credential, target) => ({ token: credential, target_token: target }),
      token_change_password: (credential, target) => ({ token: credential, target_token: target, new_password: 'another-one' }),
      token_roll_token_secret: (credential, target) => ({ token: credential, target_token: target }),
      token_list_all_tokens: (credential) => ({ token: credential }),
    };
    const ALL_CALLS: Record<string, (credential: string, target: string) => unknown> = {
      ...CALLS,
      token_get: (credential) => ({ token: credential }),
      'token_get with supertoken': (credential, target) => ({ token: target, supertoken: credential }),
    };
    const methodOf = (label: string) => label.split(' ')[0];

    it('refuses every method but token_get to a valid token that is not the super token (102)', async () => {
      const caller = await makeToken();
      const target = await makeAccount();
      // The caller's credential is valid: it reads its own token.
      expect((await expectResult('token_get', { token: caller.credential })).body.result.token_key).toBe(caller.key);
      for (const [method, params] of Object.entries(CALLS)) {
        await expectRefused(method, params(caller.credential, target.key), { code: 102, message: /^Permission denied: / });
      }
    });

    it('answers an unparseable credential with 101 and a wrong one with 102 on every method', async () => {
      const target = await makeAccount();
      for (const [label, params] of Object.entries(ALL_CALLS)) {
        await expectRefused(methodOf(label), params('no-separator', target.key), UNPARSEABLE);
        await expectRefused(methodOf(label), params(`${keyOf(root)}:not-the-secret`, target.key), INVALID_CREDENTIALS);
        await expectRefused(methodOf(label), params('root|not-the-password', target.key), INVALID_CREDENTIALS);
        await expectRefused(methodOf(label), params(`${target.key}:`, target.key), INVALID_CREDENTIALS);
      }
    });

    it.each<[string, string, unknown]>([
      ['token_get', 'token not a string', { token: 5 }],
      ['token_get', 'supertoken not a string', { token: 'x', supertoken: 5 }],
      ['token_create', 'token_creation not an object', { father_token: 'garbage', token_creation: 5 }],
      ['token_create', 'token_creation missing', { father_token: 'garbage' }],
      ['token_create', 'token_limit not an array', { father_token: 'garbage', token_creation: { token_limit: 'all' } }],
      ['token_create', 'timestamp_from not a number', { father_token: 'garbage', token_creation: { token_limit: [], timestamp_from: 'soon' } }],
      ['token_create', 'username not a string', { father_token: 'garbage', token_creation: { token_limit: [], username: 7, password: 'p' } }],
      ['token_create', 'father_token not a string', { father_token: 5, token_creation: { token_limit: [] } }],
      ['token_edit', 'target_token a number', { token: 'garbage', target_token: 5, limit: [] }],
      ['token_edit', 'limit not an array', { token: 'garbage', target_token: 'x', limit: { scopes: [] } }],
      ['token_delete', 'target_token a number', { token: 'garbage', target_token: 5 }],
      ['token_delete', 'target_token missing', { token: 'garbage' }],
      ['token_delete', 'three positional params', ['garbage', 'x', 'extra']],
      ['token_change_password', 'new_password a number', { token: 'garbage', target_token: 'x', new_password: 5 }],
      ['token_roll_token_secret', 'target_token null', { token: 'garbage', target_token: null }],
      ['token_list_all_tokens', 'token not a string', { token: 5 }],
    ])('%s: reports malformed params (%s) before bad credentials', async (method, _label, params) => {
      await expectRefused(method, params, { code: -32602 });
    });

    it('reports malformed params before bad credentials even when the credential parses but is wrong', async () => {
      await expectRefused('token_edit', { token: 'nokey:nosecret', target_token: 5, limit: [] }, { code: -32602 });
      await expectRefused('token_create', ['nokey:nosecret', 'not-an-object'], { code: -32602 });
    });
  });

  describe('target lookup', () => {
    /** Each target method, given a target; token_get takes it as `token` beside `supertoken`. */
    const TARGET_CALLS: Record<string, (target: string) => unknown> = {
      token_edit: (target) => ({ token: root, target_token: target, limit: READ_BETA }),
      token_delete: (target) => ({ token: root, target_token: target }),
      token_change_password: (target) => ({ token: root, target_token: target, new_password: 'new-password' }),
      token_roll_token_secret: (target) => ({ token: root, target_token: target }),
    };

    it('refuses an empty target, one made only of whitespace (NodeGet trims it), or one whose key part is empty, with 108', async () => {
      for (const [method, params] of Object.entries(TARGET_CALLS)) {
        await expectRefused(method, params(''), EMPTY_TARGET);
        await expectRefused(method, params(' \t\n '), EMPTY_TARGET);
        await expectRefused(method, params(':some-secret'), EMPTY_TARGET);
      }
    });

    it('refuses an unknown target with 105 that names it and never its secret part', async () => {
      for (const [method, params] of Object.entries(TARGET_CALLS)) {
        await expectRefused(method, params('noSuchKey0000001'), notFound('noSuchKey0000001'));
        const byKey = await expectRefused(method, params('noSuchKey0000002:TopSecretPart'), notFound('noSuchKey0000002'));
        expect(byKey.text).not.toContain('TopSecretPart');
        const byUser = await expectRefused(method, params('nobody_here|TopSecretPassword'), notFound('nobody_here'));
        expect(byUser.text).not.toContain('TopSecretPassword');
      }
    });

    it('token_edit: the key wins over an equal username, and a wrong secret in a full target is not checked', async () => {
      const a = await makeToken();
      const b = await makeToken(READ_ALL, { username: a.key, password: 'b-password' });
      const edited = await expectResult('token_edit', { token: root, target_token: `${a.key}:wrong-secret`, limit: READ_BETA });
      expect(edited.body.result.token_key).toBe(a.key);
      expect((await tokenRow(a.key)).token_limit).toEqual(READ_BETA);
      expect((await tokenRow(b.key)).token_limit).toEqual(READ_ALL);
    });

    it('token_change_password: the key wins over an equal username', async () => {
      const a = await makeAccount();
      const b = await makeToken(READ_ALL, { username: a.key, password: 'b-password' });
      await expectResult('token_change_password', { token: root, target_token: a.key, new_password: 'a-new-password' });
      expect((await expectResult('token_get', { token: `${a.username}|a-new-password` })).body.result.token_key).toBe(a.key);
      // b, whose username the target also equals, keeps its password.
      expect((await expectResult('token_get', { token: `${b.username}|b-password` })).body.result.token_key).toBe(b.key);
    });

    it('token_roll_token_secret: a username|password target with a wrong password still finds the token', async () => {
      const a = await makeAccount();
      const rolled = await expectResult('token_roll_token_secret', { token: root, target_token: `${a.username}|not-the-password` });
      expect(rolled.body.result.key).toBe(a.key);
    });
  });

  describe('token_create', () => {
    const create = (creation: unknown) => send('token_create', { father_token: root, token_creation: creation });
    const refuseCreate = (creation: unknown, message?: string | RegExp) =>
      expectRefused('token_create', { father_token: root, token_creation: creation }, { code: 108, message });

    it('returns {key, secret} once; the secret is the one stored, and the token and its account work', async () => {
      const username = uniqueName('made');
      const reply = await create({ username, password: 'made-password', token_limit: [limit([{ js_worker: 'alpha' }], [read('alpha')])] });
      expect(Object.keys(reply.body.result).sort()).toEqual(['key', 'secret']);
      const { key, secret } = reply.body.result;
      expect(key).toMatch(/^[A-Za-z0-9]{16}$/);
      expect(secret).toMatch(/^[A-Za-z0-9]{32}$/);
      expect((await tokenRow(key)).token_hash).toBe(nodeGetHash(secret));
      const viaSecret = await queryRows(`${key}:${secret}`, []);
      expect(viaSecret.result.map((r: any) => r.js_worker_name)).toEqual(['alpha', 'alpha']);
      expect((await queryRows(`${username}|made-password`, [{ js_worker_name: 'alpha' }])).result).toHaveLength(2);
      // It holds only what it was given.
      expect((await queryRows(`${key}:${secret}`, [{ js_worker_name: 'beta' }])).error.code).toBe(102);
    });

    it('accepts positional params [father_token, token_creation]', async () => {
      const reply = await expectResult('token_create', [root, { token_limit: READ_ALL }]);
      const { key, secret } = reply.body.result;
      expect((await queryRows(`${key}:${secret}`, [])).result).toHaveLength(5);
    });

    it('ignores version and returns 1; keeps the time window', async () => {
      const now = Date.now();
      const reply = await create({ version: 7, token_limit: [], timestamp_from: now - 5, timestamp_to: now + 86_400_000 });
      const object = (await expectResult('token_get', { token: `${reply.body.result.key}:${reply.body.result.secret}` })).body.result;
      expect(object).toStrictEqual({
        version: 1,
        token_key: reply.body.result.key,
        timestamp_from: now - 5,
        timestamp_to: now + 86_400_000,
        token_limit: [],
        username: null,
      });
    });

    it('keeps scope and permission kinds it does not know exactly as given', async () => {
      const limits = [
        limit(
          ['global', 'mystery', { agent_uuid: '0b5e7f2a-0000-4000-8000-000000000001' }, { kv_namespace: 'n' }, { future: { nested: [1, 2.5, true, null] } }],
          [{ kv: { read: '*' } }, { task: 'list' }, { js_worker: 'run_defined_js_worker' }, { js_result: { purge: 3 } }, read('beta')],
        ),
        limit([{ static_bucket: '*' }, { db: 'x' }], [{ terminal: { connect: ['a', 'b'] } }]),
      ];
      const { key, secret } = (await create({ token_limit: limits })).body.result;
      expect((await expectResult('token_get', { token: key, supertoken: root })).body.result.token_limit).toEqual(limits);
      expect((await expectResult('token_get', { token: `${key}:${secret}` })).body.result.token_limit).toEqual(limits);
      // Unknown kinds grant nothing, but do not stop the known ones from working.
      expect((await queryRows(`${key}:${secret}`, [])).result).toHaveLength(3);
    });

    it('keeps 64-bit integers inside unknown kinds exact', async () => {
      const text = `{"jsonrpc":"2.0","id":1,"method":"token_create","params":{"father_token":"${root}","token_creation":{"token_limit":[{"scopes":[{"agent_id":9007199254740993}],"permissions":[]}]}}}`;
      const created = await rpc(t.app, text);
      const { key, secret } = created.body.result;
      const [stored] = await t.dataSource.query('SELECT token_limit::text AS text FROM token WHERE token_key = $1', [key]);
      expect(stored.text).toContain('9007199254740993');
      // 2^53 + 1: JSON.parse would turn it into ...992 on the way out.
      for (const [method, params] of [['token_get', { token: key, supertoken: root }], ['token_get', { token: `${key}:${secret}` }], ['token_list_all_tokens', { token: root }]] as const) {
        expect((await send(method, params)).text).toContain('{"agent_id":9007199254740993}');
      }
    });

    it.each<[string, unknown]>([
      ['a limit that is not an object', ['global']],
      ['scopes not an array', [{ scopes: 'global', permissions: [] }]],
      ['permissions missing', [{ scopes: ['global'] }]],
      ['a js_worker scope that is not a string', [limit([{ js_worker: 5 }], [read('*')])]],
      ['a js_result permission that is not an object', [limit(['global'], [{ js_result: 'read' }])]],
      ['a js_result read that is not a string', [limit(['global'], [{ js_result: { read: ['a'] } }])]],
      ['a js_result delete that is not a string', [limit(['global'], [{ js_result: { delete: null } }])]],
      ['a scope that is neither a string nor a one-key object', [limit([{ js_worker: 'a', agent_uuid: 'b' }], [])]],
    ])('refuses malformed known kinds with 108: %s', async (_label, limits) => {
      await refuseCreate({ token_limit: limits });
    });

    it('wants username and password both or neither', async () => {
      await refuseCreate({ token_limit: [], username: uniqueName('lonely') });
      await refuseCreate({ token_limit: [], password: 'lonely-password' });
      await refuseCreate({ token_limit: [], username: uniqueName('lonely'), password: null });
    });

    it('refuses a username that is taken, root included', async () => {
      const a = await makeAccount();
      await refuseCreate({ token_limit: [], username: a.username, password: 'other' });
      await refuseCreate({ token_limit: [], username: 'root', password: 'other' });
    });

    it('refuses timestamp_from after timestamp_to, and accepts them equal (both inclusive)', async () => {
      await refuseCreate({ token_limit: [], timestamp_from: 2_000, timestamp_to: 1_999 });
      expect((await create({ token_limit: [], timestamp_from: 2_000, timestamp_to: 2_000 })).body.result.key).toMatch(/^[A-Za-z0-9]{16}$/);
    });

    it('accepts usernames and passwords containing : and |, as NodeGet does (credentials-separators.e2e-spec.ts logs them in)', async () => {
      for (const [username, password] of [[uniqueName('has:colon'), 'p'], [uniqueName('has|bar'), 'p'], [uniqueName('fine'), 'pass:wo|rd']]) {
        expect((await create({ token_limit: [], username, password })).body.result.key).toMatch(/^[A-Za-z0-9]{16}$/);
      }
    });

    it('lets exactly one of two simultaneous creations of the same username through', async () => {
      const username = uniqueName('race');
      const auditBefore = (await snapshot()).audit;
      const replies = await Promise.all(
        ['first-password', 'second-password'].map((password) => create({ token_limit: [], username, password })),
      );
      expect(replies.filter((r) => r.body.result !== undefined)).toHaveLength(1);
      expect(replies.filter((r) => r.body.error !== undefined).map((r) => r.body.error.code)).toEqual([108]);
      expect(await t.dataSource.query('SELECT token_key FROM token WHERE username = $1', [username])).toHaveLength(1);
      expect((await snapshot()).audit).toBe(auditBefore + 1);
    });
  });

  describe('token_edit', () => {
    it('replaces token_limit whole, in force on the very next call', async () => {
      const a = await makeToken([...READ_ALL, limit([{ kv_namespace: 'kept?' }], [{ kv: { read: '*' } }])]);
      // Used before the edit, so a cached copy of the old limits would show.
      expect((await queryRows(a.credential, [{ js_worker_name: 'alpha' }])).result).toHaveLength(2);
      const reply = await expectResult('token_edit', { token: root, target_token: a.key, limit: READ_BETA });
      expect(reply.body.result).toStrictEqual({ success: true, id: Number((await tokenRow(a.key)).id), token_key: a.key });
      expect((await queryRows(a.credential, [{ js_worker_name: 'alpha' }])).error.code).toBe(102);
      expect((await queryRows(a.credential, [])).result.map((r: any) => r.js_worker_name)).toEqual(['beta', 'beta', 'beta']);
      expect((await expectResult('token_get', { token: a.credential })).body.result.token_limit).toEqual(READ_BETA);
    });

    it('accepts positional params [token, target_token, limit] and a username target', async () => {
      const a = await makeAccount(READ_BETA);
      const reply = await expectResult('token_edit', [root, a.username, []]);
      expect(reply.body.result).toStrictEqual({ success: true, id: Number((await tokenRow(a.key)).id), token_key: a.key });
      expect((await queryRows(a.credential, [])).result).toEqual([]);
      expect((await tokenRow(a.key)).token_limit).toEqual([]);
    });

    it('refuses to edit the super token (102)', async () => {
      await expectRefused('token_edit', { token: root, target_token: 'root', limit: READ_BETA }, { code: 102, message: /^Permission denied: / });
      await expectRefused('token_edit', [root, keyOf(root), []], { code: 102, message: /^Permission denied: / });
    });

    it('refuses malformed known kinds in the new limits with 108, as at creation', async () => {
      const a = await makeToken();
      await expectRefused('token_edit', { token: root, target_token: a.key, limit: [limit([{ js_worker: 1 }], [])] }, { code: 108 });
      await expectRefused('token_edit', { token: root, target_token: a.key, limit: [{ scopes: [] }] }, { code: 108 });
    });
  });

  describe('token_delete', () => {
    it('deletes by key: the credential is refused on the next call, and the results stay', async () => {
      const a = await makeToken();
      expect((await queryRows(a.credential, [])).result).toHaveLength(5);
      const rowsBefore = await countRows(t.dataSource);
      const reply = await expectResult('token_delete', { token: root, target_token: a.key });
      expect(reply.body.result).toStrictEqual({ message: `Token ${a.key} deleted successfully by SuperToken`, rows_affected: 1, matched_by: 'token_key' });
      expect(await tokenRow(a.key)).toBeUndefined();
      await expectRefused('js-result_query', queryParams(a.credential, []), INVALID_CREDENTIALS);
      expect(await countRows(t.dataSource)).toBe(rowsBefore);
    });

    it('deletes by username, positionally; a wrong password in the target is not checked', async () => {
      const a = await makeAccount();
      expect((await queryRows(`${a.username}|${a.password}`, [])).result).toHaveLength(5);
      const reply = await expectResult('token_delete', [root, a.username]);
      expect(reply.body.result).toStrictEqual({ message: `Token ${a.username} deleted successfully by SuperToken`, rows_affected: 1, matched_by: 'username' });
      await expectRefused('js-result_query', queryParams(`${a.username}|${a.password}`, []), INVALID_CREDENTIALS);

      const b = await makeAccount();
      const full = await expectResult('token_delete', { token: root, target_token: `${b.username}|wrong-password` });
      expect(full.body.result).toMatchObject({ rows_affected: 1, matched_by: 'username' });
      expect(full.text).not.toContain('wrong-password');
      expect(await tokenRow(b.key)).toBeUndefined();
    });

    it('does not echo the secret part of a key:secret target', async () => {
      const a = await makeToken();
      const reply = await expectResult('token_delete', { token: root, target_token: a.credential });
      expect(reply.body.result).toStrictEqual({ message: `Token ${a.key} deleted successfully by SuperToken`, rows_affected: 1, matched_by: 'token_key' });
      expect(reply.text).not.toContain(a.secret);
    });

    it('deletes the token whose key is the target, not the one whose username equals it', async () => {
      const a = await makeToken();
      const b = await makeToken(READ_ALL, { username: a.key, password: 'b-password' });
      expect((await expectResult('token_delete', { token: root, target_token: a.key })).body.result.matched_by).toBe('token_key');
      expect(await tokenRow(a.key)).toBeUndefined();
      expect((await queryRows(b.credential, [])).result).toHaveLength(5);
    });

    it('never deletes the super token', async () => {
      const denied = { code: 102, message: 'Permission denied: SuperToken cannot be deleted' };
      await expectRefused('token_delete', { token: root, target_token: keyOf(root) }, denied);
      await expectRefused('token_delete', [root, 'root'], denied);
      await expectRefused('token_delete', { token: root, target_token: root }, denied);
    });
  });

  describe('token_change_password', () => {
    it('sets a new password that works on the next call, and refuses the old one', async () => {
      const a = await makeAccount();
      expect((await queryRows(`${a.username}|${a.password}`, [])).result).toHaveLength(5);
      const reply = await expectResult('token_change_password', { token: root, target_token: a.username, new_password: 'brand-new' });
      expect(reply.body.result).toStrictEqual({ success: true, message: 'Password changed successfully' });
      expect(reply.text).not.toContain('brand-new');
      await expectRefused('js-result_query', queryParams(`${a.username}|${a.password}`, []), INVALID_CREDENTIALS);
      expect((await queryRows(`${a.username}|brand-new`, [])).result).toHaveLength(5);
      // The key:secret is not the password, so it keeps working.
      expect((await queryRows(a.credential, [])).result).toHaveLength(5);
    });

    it('accepts positional params [token, target_token, new_password] and a full target with a wrong secret', async () => {
      const a = await makeAccount();
      const reply = await expectResult('token_change_password', [root, `${a.key}:wrong-secret`, 'pipe|is-fine']);
      expect(reply.body.result).toStrictEqual({ success: true, message: 'Password changed successfully' });
      expect((await expectResult('token_get', { token: `${a.username}|pipe|is-fine` })).body.result.token_key).toBe(a.key);
    });

    it('refuses an empty password and a target without a username (108)', async () => {
      const a = await makeAccount();
      const keyOnly = await makeToken();
      await expectRefused('token_change_password', { token: root, target_token: a.username, new_password: '' }, { code: 108 });
      await expectRefused('token_change_password', { token: root, target_token: keyOnly.key, new_password: 'whatever' }, { code: 108 });
      expect((await queryRows(`${a.username}|${a.password}`, [])).result).toHaveLength(5);
    });
  });

  describe('token_roll_token_secret', () => {
    it('keeps the key, issues a new secret and refuses the old one on the next call', async () => {
      const a = await makeToken();
      expect((await queryRows(a.credential, [])).result).toHaveLength(5);
      const reply = await expectResult('token_roll_token_secret', { token: root, target_token: a.key });
      expect(Object.keys(reply.body.result).sort()).toEqual(['key', 'secret']);
      expect(reply.body.result.key).toBe(a.key);
      expect(reply.body.result.secret).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(reply.body.result.secret).not.toBe(a.secret);
      await expectRefused('js-result_query', queryParams(a.credential, []), INVALID_CREDENTIALS);
      expect((await queryRows(`${a.key}:${reply.body.result.secret}`, [])).result).toHaveLength(5);
    });

    it('accepts positional params [token, target_token] and a username target', async () => {
      const a = await makeAccount();
      const reply = await expectResult('token_roll_token_secret', [root, a.username]);
      expect(reply.body.result.key).toBe(a.key);
      await expectRefused('token_get', { token: a.credential }, INVALID_CREDENTIALS);
      expect((await expectResult('token_get', [`${a.key}:${reply.body.result.secret}`])).body.result.token_key).toBe(a.key);
      // The account's password is not the secret, so it survives a roll.
      expect((await expectResult('token_get', [`${a.username}|${a.password}`])).body.result.token_key).toBe(a.key);
    });
  });

  describe('token_list_all_tokens', () => {
    it('lists every token by id, the super token included, without secrets', async () => {
      const a = await makeAccount([limit([{ odd_kind: 1 }], [])]);
      const rows: { token_key: string; token_hash: string; password_hash: string | null }[] = await t.dataSource.query(
        'SELECT token_key, token_hash, password_hash FROM token ORDER BY id',
      );
      for (const params of [{ token: root }, [root]]) {
        const reply = await expectResult('token_list_all_tokens', params);
        expect(Object.keys(reply.body.result)).toEqual(['tokens']);
        const tokens = reply.body.result.tokens;
        expect(tokens.map((o: any) => o.token_key)).toEqual(rows.map((r) => r.token_key));
        expect(tokens[0]).toStrictEqual({ version: 1, token_key: keyOf(root), timestamp_from: null, timestamp_to: null, token_limit: [], username: 'root' });
        expect(tokens.find((o: any) => o.token_key === a.key)).toStrictEqual(await expectedObject(a.key));
        const hashes = rows.flatMap((r) => [r.token_hash, r.password_hash ?? []]).flat();
        expectNoSecrets(reply, [secretOf(root), a.secret, a.password!, ...hashes]);
      }
    });
  });

  describe('NodeGet password hashes', () => {
    /** An account as NodeGet stored it: the password under its secret hash, not scrypt. */
    async function insertLegacyAccount(username: string, password: string): Promise<string> {
      const key = randomBytes(8).toString('hex');
      await t.dataSource.query(
        `INSERT INTO token (token_key, token_hash, token_limit, username, password_hash, created_at, updated_at)
         VALUES ($1, $2, $3::jsonb, $4, $5, 0, 0)`,
        [key, nodeGetHash(randomBytes(16).toString('hex')), JSON.stringify(READ_ALL), username, nodeGetHash(password)],
      );
      return key;
    }

    it('accepts the password once, upgrades its hash to scrypt, and keeps accepting it', async () => {
      const username = uniqueName('legacy');
      const key = await insertLegacyAccount(username, 'old-nodeget-pw');
      const first = await expectResult('token_get', { token: `${username}|old-nodeget-pw` });
      expect(first.body.result.token_key).toBe(key);
      expect((await tokenRow(key)).password_hash).toMatch(/^scrypt\$/);
      expect((await expectResult('token_get', [`${username}|old-nodeget-pw`])).body.result.token_key).toBe(key);
      expect((await queryRows(`${username}|old-nodeget-pw`, [])).result).toHaveLength(5);
      await expectRefused('token_get', { token: `${username}|wrong-pw` }, INVALID_CREDENTIALS);
    });

    it('refuses a wrong password and leaves the NodeGet hash as it was', async () => {
      const username = uniqueName('legacy');
      const key = await insertLegacyAccount(username, 'right-pw');
      await expectRefused('token_get', { token: `${username}|wrong-pw` }, INVALID_CREDENTIALS);
      expect((await tokenRow(key)).password_hash).toBe(nodeGetHash('right-pw'));
    });
  });

  // Last: it replaces the super credential every other test uses.
  describe('rolling the super token', () => {
    it('works on the super token: the old super secret is refused afterwards, the new one works', async () => {
      const old = root;
      expect((await expectResult('token_list_all_tokens', { token: old })).body.result.tokens[0].username).toBe('root');
      const reply = await expectResult('token_roll_token_secret', { token: old, target_token: 'root' });
      expect(reply.body.result.key).toBe(keyOf(old));
      root = `${reply.body.result.key}:${reply.body.result.secret}`;
      await expectRefused('token_list_all_tokens', { token: old }, INVALID_CREDENTIALS);
      expect((await expectResult('token_list_all_tokens', [root])).body.result.tokens[0].token_key).toBe(keyOf(old));
      expect((await queryRows(root, [])).result).toHaveLength(5);
    });
  });
});
