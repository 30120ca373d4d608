import { randomUUID } from 'node:crypto';
import { call, rpc, type RpcReply, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';

const READ_ALL = [{ scopes: ['global'], permissions: [{ js_result: { read: '*' } }] }];
const INVALID_CREDENTIALS = { code: 102, message: 'Permission denied: Invalid credentials' };
const EMPTY_TARGET = { code: 108, message: 'Invalid input: target_token cannot be empty' };
const notFound = (name: string) => ({ code: 105, message: `Not found in database: Token not found by key/username: ${name}` });

/**
 * Accounts as NodeGet and its dashboard make them (issue 23 #4): usernames and
 * passwords may hold `:` and `|` (the dashboard's generated passwords do; its
 * agent tokens are named `[agent]:<uuid>`), and log in as JSRESULT §4 says.
 * Targets as TOKENS.md says: whitespace only is empty (108), and a target
 * that names no token is 105 with NodeGet's text.
 */
describe(`credentials with : and |, and targets (${backendName})`, () => {
  let t: TestApp;
  let serial = 0;

  beforeAll(async () => {
    t = await startTestApp();
  });

  afterAll(() => t.close());

  const send = (method: string, params: unknown) => rpc(t.app, call(method, params));

  const snapshot = async () => ({
    tokens: await t.dataSource.query('SELECT * FROM token ORDER BY id'),
    audit: await t.dataSource.query('SELECT id FROM audit_log ORDER BY id'),
  });

  async function expectRefused(method: string, params: unknown, error: { code: number; message: string }): Promise<void> {
    const before = await snapshot();
    const reply = await send(method, params);
    expect(reply.body.error).toEqual(error);
    expect(await snapshot()).toEqual(before);
  }

  async function expectResult(method: string, params: unknown): Promise<RpcReply> {
    const reply = await send(method, params);
    expect(reply.body.error).toBeUndefined();
    return reply;
  }

  /** Creates an account over JSON-RPC, as the dashboard does, and returns its `key:secret`. */
  async function createAccount(username: string, password: string): Promise<string> {
    const created = await expectResult('token_create', {
      father_token: t.superToken,
      token_creation: { username, password, token_limit: READ_ALL, version: 1 },
    });
    return `${created.body.result.key}:${created.body.result.secret}`;
  }

  const loggedInAs = async (credential: string) => (await expectResult('token_get', { token: credential })).body.result.username;

  describe('accounts whose username or password holds : or |', () => {
    it("the dashboard's agent account, [agent]:<uuid>, logs in as [agent]:<uuid>|password", async () => {
      const username = `[agent]:${randomUUID()}`;
      await createAccount(username, 'agent-password');
      expect(await loggedInAs(`${username}|agent-password`)).toBe(username);
      const query = await expectResult('js-result_query', { token: `${username}|agent-password`, query: { condition: [{ limit: 1 }] } });
      expect(query.body.result).toEqual([]);
      await expectRefused('token_get', { token: `${username}|wrong-password` }, INVALID_CREDENTIALS);
    });

    it.each([
      ['a generated password with : and |', 'gen-user', 'Xy:9|q:Z|w1'],
      ['a password starting with | and ending with :', 'edge-user', '|p|:'],
      ['a username with : and a password with :', 'ops:team', 'a:b'],
      ['a username that is 16 letters and digits, with a password holding :', 'abcdefghijklmnop', 'x:y'],
    ])('%s', async (_label, username, password) => {
      await createAccount(username, password);
      expect(await loggedInAs(`${username}|${password}`)).toBe(username);
    });

    it('a password changed to one holding : and | logs in with it, and the old one no longer', async () => {
      const username = `changer:${++serial}`;
      await createAccount(username, 'old:pw');
      await expectResult('token_change_password', { token: t.superToken, target_token: username, new_password: 'new|pw:1' });
      expect(await loggedInAs(`${username}|new|pw:1`)).toBe(username);
      await expectRefused('token_get', { token: `${username}|old:pw` }, INVALID_CREDENTIALS);
    });

    it('a username holding | logs in only by its key:secret, as JSRESULT §4 says', async () => {
      const credential = await createAccount('pipe|name', 'pw');
      expect(await loggedInAs(credential)).toBe('pipe|name');
      await expectRefused('token_get', { token: 'pipe|name|pw' }, INVALID_CREDENTIALS);
    });

    it('key:secret stays token mode when the key is a token key, even with a | after it', async () => {
      const credential = await createAccount('plain-user', 'pw');
      expect(await loggedInAs(credential)).toBe('plain-user');
      await expectRefused('token_get', { token: `${credential}|extra` }, INVALID_CREDENTIALS);
    });

    it('a taken username is still refused with 108, : or not', async () => {
      await createAccount('taken:name', 'pw');
      await expectRefused(
        'token_create',
        { father_token: t.superToken, token_creation: { username: 'taken:name', password: 'other', token_limit: [] } },
        { code: 108, message: "Invalid input: username 'taken:name' is already taken" },
      );
    });
  });

  describe('targets', () => {
    const TARGET_CALLS: Record<string, (target: string) => unknown> = {
      token_edit: (target) => ({ token: t.superToken, target_token: target, limit: READ_ALL }),
      token_delete: (target) => ({ token: t.superToken, target_token: target }),
      token_change_password: (target) => ({ token: t.superToken, target_token: target, new_password: 'new-password' }),
      token_roll_token_secret: (target) => ({ token: t.superToken, target_token: target }),
    };

    it.each(Object.keys(TARGET_CALLS))('%s: a target of only whitespace is empty (108)', async (method) => {
      for (const blank of [' ', '   ', '\t', '\n \r\n', '\u00a0']) await expectRefused(method, TARGET_CALLS[method](blank), EMPTY_TARGET);
    });

    it.each(Object.keys(TARGET_CALLS))("%s: a target naming no token is 105 with NodeGet's text, never the secret part", async (method) => {
      await expectRefused(method, TARGET_CALLS[method]('noSuchKey0000001'), notFound('noSuchKey0000001'));
      await expectRefused(method, TARGET_CALLS[method]('noSuchKey0000002:TopSecretPart'), notFound('noSuchKey0000002'));
      await expectRefused(method, TARGET_CALLS[method]('[agent]:nobody|TopSecretPassword'), notFound('[agent]:nobody'));
    });

    it("token_get with supertoken: an unknown key or username is 105 with NodeGet's text", async () => {
      await expectRefused('token_get', { token: 'nobody-at-all', supertoken: t.superToken }, notFound('nobody-at-all'));
    });

    it('a username holding : is found when given whole, and deleted by it', async () => {
      const username = `[agent]:${randomUUID()}`;
      await createAccount(username, 'pw');
      const edited = await expectResult('token_edit', { token: t.superToken, target_token: username, limit: [] });
      expect(edited.body.result.success).toBe(true);
      const deleted = await expectResult('token_delete', { token: t.superToken, target_token: `${username}|pw` });
      expect(deleted.body.result).toEqual({ message: `Token ${username} deleted successfully by SuperToken`, rows_affected: 1, matched_by: 'username' });
      await expectRefused('token_get', { token: `${username}|pw` }, INVALID_CREDENTIALS);
    });
  });
});
