import { call, countRows, queryParams, rpc, seed, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';
import { T0 } from './support/fixtures';

const limit = (scopes: unknown[], permissions: unknown[]) => ({ scopes, permissions });
const read = (p: string) => ({ js_result: { read: p } });
const del = (p: string) => ({ js_result: { delete: p } });
const worker = (p: string) => ({ js_worker: p });

/** Contract §3-4: who may read and delete what. */
describe(`token scopes and permissions (${backendName})`, () => {
  let t: TestApp;
  const WORKERS = ['demo_worker', 'demo_other', 'demoXworker', 'prod_api', 'a%b', 'aXb', 'x_1', 'xy1'];

  const query = async (token: string, condition: unknown[]) =>
    (await rpc(t.app, call('js-result_query', queryParams(token, condition)))).body;
  const names = (body: any): string[] => [...new Set<string>(body.result.map((r: any) => r.js_worker_name))].sort();

  beforeAll(async () => {
    t = await startTestApp({ tokenCacheTtlMs: 0 });
  });

  afterAll(() => t.close());

  beforeEach(async () => {
    await t.dataSource.query('DELETE FROM js_result');
    await seed(t.dataSource, WORKERS.flatMap((w, i) => [
      { jsWorkerName: w, startTime: T0 + i * 10, result: { w } },
      { jsWorkerName: w, startTime: T0 + i * 10 + 1, errorMessage: 'x' },
    ]));
  });

  it('lets a demo_* token read demo_ workers and only those', async () => {
    const token = await t.token([limit([worker('demo_*')], [read('demo_*')])]);
    expect(names(await query(token, []))).toEqual(['demo_other', 'demo_worker']);
    expect((await query(token, [{ js_worker_name: 'demo_worker' }])).result).toHaveLength(2);
  });

  it('does not let demo_* cover demoXworker', async () => {
    const token = await t.token([limit([worker('demo_*')], [read('demo_*')])]);
    const body = await query(token, [{ js_worker_name: 'demoXworker' }]);
    expect(body.error).toEqual({
      code: 102,
      message: "Permission denied: Permission denied for js_result on worker 'demoXworker', action: Read",
    });
  });

  it('fails the whole call when any named worker is refused, returning nothing', async () => {
    const token = await t.token([limit([worker('demo_*')], [read('demo_*')])]);
    const body = await query(token, [{ js_worker_name: 'demo_worker' }, { js_worker_name: 'prod_api' }]);
    expect(body.error.message).toContain("worker 'prod_api'");
    expect(body.result).toBeUndefined();
  });

  it('does not combine a scope from one limit with a permission from another', async () => {
    const token = await t.token([limit([worker('demo_worker')], [read('prod_api')]), limit([worker('prod_api')], [read('demo_worker')])]);
    expect((await query(token, [{ js_worker_name: 'demo_worker' }])).error.code).toBe(102);
    expect((await query(token, [{ js_worker_name: 'prod_api' }])).error.code).toBe(102);
    expect((await query(token, [])).result).toEqual([]);
  });

  it('treats % and _ in patterns as literal characters, in the database too', async () => {
    const token = await t.token([limit(['global'], [read('a%*'), read('x_*')])]);
    expect(names(await query(token, []))).toEqual(['a%b', 'x_1']);
  });

  it('lets a global scope with a * permission see every worker', async () => {
    const token = await t.token([limit(['global'], [read('*')])]);
    expect(names(await query(token, []))).toEqual([...WORKERS].sort());
  });

  it('never lets read imply delete, nor the reverse', async () => {
    const reader = await t.token([limit(['global'], [read('*')])]);
    const deleter = await t.token([limit(['global'], [del('*')])]);
    const denied = await rpc(t.app, call('js-result_delete', queryParams(reader, [{ js_worker_name: 'prod_api' }])));
    expect(denied.body.error.message).toBe("Permission denied: Permission denied for js_result on worker 'prod_api', action: Delete");
    const silent = await rpc(t.app, call('js-result_delete', queryParams(reader, [])));
    expect(silent.body.result).toEqual({ success: true, deleted: 0, condition_count: 0 });
    expect((await query(deleter, [])).result).toEqual([]);
    expect(await countRows(t.dataSource)).toBe(WORKERS.length * 2);
  });

  it('restricts an unnamed delete to the workers the token may delete', async () => {
    const token = await t.token([limit([worker('demo_*')], [del('demo_*'), read('*')])]);
    const { body } = await rpc(t.app, call('js-result_delete', queryParams(token, ['is_failure'])));
    expect(body.result).toEqual({ success: true, deleted: 2, condition_count: 1 });
    const failures = await query(t.superToken, ['is_failure']);
    expect(names(failures)).toEqual(WORKERS.filter((w) => !w.startsWith('demo_')).sort());
  });

  it('tolerates limits with kinds it does not know', async () => {
    const token = await t.token([
      limit([{ agent_uuid: '*' }, { kv_namespace: 'n' }, 'mystery', worker('prod_api')], [{ kv: { read: '*' } }, { task: 'list' }, read('prod_api')]),
      limit([{ static_bucket: '*' }, { db: '*' }], [read('*')]),
    ]);
    expect(names(await query(token, []))).toEqual(['prod_api']);
  });

  it('honours the token time window, both bounds inclusive', async () => {
    const now = Date.now();
    const limits = [limit(['global'], [read('*')])];
    const past = await t.token(limits, { timestampFrom: now - 60_000, timestampTo: now - 30_000 });
    const future = await t.token(limits, { timestampFrom: now + 60_000 });
    const current = await t.token(limits, { timestampFrom: now - 60_000, timestampTo: now + 60_000 });
    expect((await query(past, [])).result).toEqual([]);
    expect((await query(future, [{ js_worker_name: 'prod_api' }])).error.code).toBe(102);
    expect((await query(current, [{ js_worker_name: 'prod_api' }])).result).toHaveLength(2);
  });

  it('gives the super token everything', async () => {
    expect(names(await query(t.superToken, []))).toEqual([...WORKERS].sort());
    const { body } = await rpc(t.app, call('js-result_delete', queryParams(t.superToken, [])));
    expect(body.result.deleted).toBe(WORKERS.length * 2);
  });

  describe('credentials', () => {
    it('answers every credential failure with the same message', async () => {
      const [key] = t.superToken.split(':');
      const wrong = ['nokey:nosecret', `${key}:wrong`, `${key}:`, 'root|anything', 'nobody|x', ':', '|'];
      for (const token of wrong) {
        expect((await query(token, [])).error).toEqual({ code: 102, message: 'Permission denied: Invalid credentials' });
      }
    });

    it('refuses a token without a separator with 101', async () => {
      expect((await query('no-separator', [])).error).toEqual({
        code: 101,
        message: "Parse error: Failed to parse token: Invalid token format: must be 'key:secret' or 'username|password'",
      });
    });

    it('accepts username|password for accounts, split at the first | unless a token key comes before a :', async () => {
      await t.tokens.create({ limits: [limit(['global'], [read('*')])], username: 'alice', password: 'pa|ss word' });
      expect((await query('alice|pa|ss word', [{ js_worker_name: 'prod_api' }])).result).toHaveLength(2);
      expect((await query('alice|wrong', [])).error.code).toBe(102);
      // "alice|pa" is no token key, so this is account alice with password "pa:ss word" (JSRESULT §4), a wrong one.
      expect((await query('alice|pa:ss word', [])).error).toEqual({ code: 102, message: 'Permission denied: Invalid credentials' });
    });

    it('accepts : and | in usernames and passwords, as NodeGet does (credentials-separators.e2e-spec.ts logs them in)', async () => {
      await expect(t.tokens.create({ limits: [], username: 'a:b', password: 'x|y:z' })).resolves.toMatchObject({ key: expect.any(String) });
      await expect(t.tokens.create({ limits: [], username: 'a|b', password: 'x' })).resolves.toMatchObject({ key: expect.any(String) });
    });

    it('stores only hashes of secrets and passwords', async () => {
      const issued = await t.tokens.create({ limits: [], username: 'hashme', password: 'plain-password' });
      const [row] = await t.dataSource.query('SELECT token_key, token_hash, password_hash FROM token WHERE id = $1', [issued.id]);
      expect(row.token_key).toBe(issued.key);
      expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(row.token_hash).not.toContain(issued.secret);
      expect(row.password_hash).toMatch(/^scrypt\$/);
      expect(row.password_hash).not.toContain('plain-password');
      expect(issued.key).toMatch(/^[A-Za-z0-9]{16}$/);
      expect(issued.secret).toMatch(/^[A-Za-z0-9]{32}$/);
    });

    it('accepts an imported NodeGet token hashed as sha256("NODEGET" + secret)', async () => {
      const { createHash } = await import('node:crypto');
      const hash = createHash('sha256').update('NODEGETimported-secret').digest('hex');
      await t.dataSource.query(
        `INSERT INTO token (token_key, token_hash, token_limit, created_at, updated_at) VALUES ('importedkey00001', $1, $2, 0, 0)`,
        [hash, JSON.stringify([limit(['global'], [read('*')])])],
      );
      expect(names(await query('importedkey00001:imported-secret', []))).toEqual([...WORKERS].sort());
    });
  });
});
