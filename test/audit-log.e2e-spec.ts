import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditService } from '../src/audit/audit.service';
import { b64 } from './support/js-worker.helpers';
import { call, rpc, seed, startTestApp, type TestApp } from './support/test-app';
import { backendName, createTestDatabase, serverUrl, type TestDatabase } from './support/test-database';

const DAY_MS = 86_400_000;

const limit = (scopes: unknown[], permissions: unknown[]) => ({ scopes, permissions });
const READ_ALL = limit(['global'], [{ js_result: { read: '*' } }]);
const WORKER_ADMIN = limit([{ js_worker: 'aud_*' }], ['create', 'read', 'write', 'delete'].map((action) => ({ js_worker: action })));

const SCRIPT = 'export default { onCall(params, env) { return Object.keys(env) } }';

/** Distinct per call, so a search of the table cannot hit something else by chance. */
const unique = (prefix: string) => `${prefix}${randomBytes(8).toString('hex')}`;

const keyOf = (credential: string) => credential.slice(0, credential.indexOf(':'));
const secretOf = (credential: string) => credential.slice(credential.indexOf(':') + 1);

interface StoredEntry {
  id: number;
  at: number;
  token_key: string | null;
  origin: string;
  method: string;
  params: any;
  affected: number;
}

/** What a call left in the log: the entries written while it ran and the wall-clock window around it. */
interface Watched<T> {
  value: T;
  entries: StoredEntry[];
  from: number;
  to: number;
}

interface ExpectedEntry {
  method: string;
  token_key: string;
  params: unknown;
  affected: number;
}

/** Storage that outlives one app: a real DATA_DIR on the embedded backend (memory:// would vanish), or one PG database. */
async function durableDatabase(): Promise<TestDatabase> {
  if (serverUrl) return createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'audit-log-'));
  return { target: { kind: 'embedded', dataDir }, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
}

/** Straight into the table, bypassing the service: entries with chosen times for the query and retention tests. */
async function insertEntries(t: TestApp, method: string, ats: number[]): Promise<void> {
  for (const at of ats) {
    await t.dataSource.query(
      `INSERT INTO audit_log (at, token_key, origin, method, params, affected) VALUES ($1, NULL, 'cli', $2, '{}'::jsonb, 1)`,
      [at, method],
    );
  }
}

/** Many entries in one statement, `at` = base + 0, 1, 2, ... */
async function insertMany(t: TestApp, method: string, count: number, base: number): Promise<void> {
  await t.dataSource.query(
    `INSERT INTO audit_log (at, token_key, origin, method, params, affected)
     SELECT $1::bigint + i, NULL, 'cli', $2, '{}'::jsonb, 1 FROM generate_series(0, $3::int - 1) AS i`,
    [base, method, count],
  );
}

async function countWhere(t: TestApp, table: string, where = 'true', values: unknown[] = []): Promise<number> {
  const [{ count }] = await t.dataSource.query(`SELECT count(*)::int AS count FROM ${table} WHERE ${where}`, values);
  return Number(count);
}

describe(`audit log (${backendName})`, () => {
  let t: TestApp;
  /** The super token's credential; one test rolls its secret. */
  let superToken: string;

  const send = async (method: string, params: unknown) => (await rpc(t.app, call(method, params))).body;

  async function succeed(method: string, params: unknown): Promise<any> {
    const body = await send(method, params);
    if (body.error) throw new Error(`${method} refused: ${JSON.stringify(body.error)}`);
    return body.result;
  }

  async function lastId(): Promise<number> {
    const [{ id }] = await t.dataSource.query('SELECT coalesce(max(id), 0)::bigint AS id FROM audit_log');
    return Number(id);
  }

  async function entriesAfter(id: number): Promise<StoredEntry[]> {
    const rows: Record<string, unknown>[] = await t.dataSource.query('SELECT * FROM audit_log WHERE id > $1 ORDER BY id', [id]);
    return rows.map((row) => ({
      id: Number(row.id),
      at: Number(row.at),
      token_key: row.token_key as string | null,
      origin: row.origin as string,
      method: row.method as string,
      params: typeof row.params === 'string' ? JSON.parse(row.params) : row.params,
      affected: Number(row.affected),
    }));
  }

  async function watch<T>(action: () => Promise<T>): Promise<Watched<T>> {
    const baseline = await lastId();
    const from = Date.now();
    const value = await action();
    const to = Date.now();
    return { value, entries: await entriesAfter(baseline), from, to };
  }

  function expectOneEntry(watched: Watched<unknown>, expected: ExpectedEntry): void {
    expect(watched.entries).toEqual([{ id: expect.any(Number), at: expect.any(Number), origin: 'rpc', ...expected }]);
    expect(watched.entries[0].at).toBeGreaterThanOrEqual(watched.from);
    expect(watched.entries[0].at).toBeLessThanOrEqual(watched.to);
  }

  /** Searches every column of every entry, as text, for each secret. */
  async function expectNoneStored(secrets: string[]): Promise<void> {
    const [{ text }] = await t.dataSource.query(`SELECT coalesce(string_agg(audit_log::text, ''), '') AS text FROM audit_log`);
    // The search must be over the real log: the super token's key is recorded in the clear.
    expect(text).toContain(keyOf(superToken));
    expect(secrets.filter((secret) => text.includes(secret))).toEqual([]);
  }

  /** A limited token with an account, for calls made as `username|password`. */
  async function account(limits: unknown[]) {
    const username = unique('user');
    const password = unique('pw-');
    const credential = await t.token(limits, { username, password });
    return { username, password, credential, login: `${username}|${password}` };
  }

  beforeAll(async () => {
    t = await startTestApp({ tokenCacheTtlMs: 0 });
    superToken = t.superToken;
  });

  afterAll(() => t.close());

  describe('token methods: one entry per change', () => {
    it('token_create: the caller, the creation with its password hidden, 1 row', async () => {
      const username = unique('alice');
      const password = unique('pw-');
      const creation = { username, password, token_limit: [READ_ALL] };
      const watched = await watch(() => succeed('token_create', { father_token: superToken, token_creation: creation }));

      expectOneEntry(watched, {
        method: 'token_create',
        token_key: keyOf(superToken),
        params: { father_token: '***', token_creation: { username, password: '***', token_limit: [READ_ALL] } },
        affected: 1,
      });
      expect(watched.entries[0].token_key).not.toBe(watched.value.key);
      await expectNoneStored([secretOf(superToken), password, watched.value.secret]);
    });

    it('token_create with positional params records them by name', async () => {
      const watched = await watch(() => succeed('token_create', [superToken, { token_limit: [] }]));
      expectOneEntry(watched, {
        method: 'token_create',
        token_key: keyOf(superToken),
        params: { father_token: '***', token_creation: { token_limit: [] } },
        affected: 1,
      });
      await expectNoneStored([secretOf(superToken), watched.value.secret]);
    });

    it('token_edit: a target given as key:secret is kept as key:***', async () => {
      const target = await t.token([]);
      const watched = await watch(() => succeed('token_edit', { token: superToken, target_token: target, limit: [READ_ALL] }));
      expectOneEntry(watched, {
        method: 'token_edit',
        token_key: keyOf(superToken),
        params: { token: '***', target_token: `${keyOf(target)}:***`, limit: [READ_ALL] },
        affected: 1,
      });
      await expectNoneStored([secretOf(superToken), secretOf(target)]);
    });

    it('token_delete with positional params, the target by username', async () => {
      const { username, password, credential } = await account([]);
      const watched = await watch(() => succeed('token_delete', [superToken, username]));
      expect(watched.value.rows_affected).toBe(1);
      expectOneEntry(watched, {
        method: 'token_delete',
        token_key: keyOf(superToken),
        params: { token: '***', target_token: username },
        affected: 1,
      });
      await expectNoneStored([secretOf(superToken), secretOf(credential), password]);
    });

    it('token_change_password: the new password and a username|password target are hidden', async () => {
      const { username, password, credential, login } = await account([]);
      const newPassword = unique('new-pw-');
      const watched = await watch(() => succeed('token_change_password', { token: superToken, target_token: login, new_password: newPassword }));
      expectOneEntry(watched, {
        method: 'token_change_password',
        token_key: keyOf(superToken),
        params: { token: '***', target_token: `${username}|***`, new_password: '***' },
        affected: 1,
      });
      await expectNoneStored([secretOf(superToken), secretOf(credential), password, newPassword]);
    });

    it('token_roll_token_secret: neither the old nor the new secret is stored', async () => {
      const target = await t.token([]);
      const watched = await watch(() => succeed('token_roll_token_secret', { token: superToken, target_token: keyOf(target) }));
      expect(watched.value.secret).not.toBe(secretOf(target));
      expectOneEntry(watched, {
        method: 'token_roll_token_secret',
        token_key: keyOf(superToken),
        params: { token: '***', target_token: keyOf(target) },
        affected: 1,
      });
      await expectNoneStored([secretOf(superToken), secretOf(target), watched.value.secret]);
    });

    it('token_roll_token_secret of the super token by itself, named by its full credential', async () => {
      const before = superToken;
      const watched = await watch(() => succeed('token_roll_token_secret', { token: before, target_token: before }));
      superToken = `${watched.value.key}:${watched.value.secret}`;
      expectOneEntry(watched, {
        method: 'token_roll_token_secret',
        token_key: keyOf(before),
        params: { token: '***', target_token: `${keyOf(before)}:***` },
        affected: 1,
      });
      await expectNoneStored([secretOf(before), watched.value.secret]);
    });

    it('records each call of a batch on its own, and only those that changed something', async () => {
      const username = unique('batch');
      const [winner, loser] = [unique('pw-'), unique('pw-')];
      const watched = await watch(async () =>
        (
          await rpc(t.app, [
            call('token_create', { father_token: superToken, token_creation: { username, password: winner, token_limit: [] } }, 1),
            call('token_create', { father_token: superToken, token_creation: { username, password: loser, token_limit: [] } }, 2),
            call('token_create', { father_token: superToken, token_creation: { token_limit: [] } }, 3),
          ])
        ).body,
      );
      expect(watched.value.map((reply: any) => (reply.error ? reply.error.code : 'ok')).sort()).toEqual([108, 'ok', 'ok']);
      expect(watched.entries.map((e) => [e.method, e.params.token_creation.username ?? null, e.affected])).toEqual(
        expect.arrayContaining([
          ['token_create', username, 1],
          ['token_create', null, 1],
        ]),
      );
      expect(watched.entries).toHaveLength(2);
      await expectNoneStored([secretOf(superToken), winner, loser]);
    });

    it('keeps the entries of a token after the token is deleted', async () => {
      const { credential, login } = await account([WORKER_ADMIN]);
      const name = unique('aud_kept_');
      const created = await watch(() => succeed('js-worker_create', { token: login, name, js_script_base64: b64(SCRIPT) }));
      await succeed('token_delete', { token: superToken, target_token: keyOf(credential) });

      const [kept] = await entriesAfter(created.entries[0].id - 1);
      expect(kept).toEqual(created.entries[0]);
      expect(kept.token_key).toBe(keyOf(credential));
    });
  });

  describe('js-result_delete', () => {
    it('records a delete that deleted rows, with the number deleted', async () => {
      const worker = unique('aud_rows_');
      await seed(t.dataSource, [1, 2, 3].map((n) => ({ jsWorkerName: worker, result: { n } })));
      const query = { condition: [{ js_worker_name: worker }] };
      const watched = await watch(() => succeed('js-result_delete', { token: superToken, query }));
      expect(watched.value.deleted).toBe(3);
      expectOneEntry(watched, { method: 'js-result_delete', token_key: keyOf(superToken), params: { token: '***', query }, affected: 3 });
      await expectNoneStored([secretOf(superToken)]);
    });

    it('records positional params by name, and a limited delete as the rows it took', async () => {
      const worker = unique('aud_rows_');
      await seed(t.dataSource, [1, 2, 3, 4].map((n) => ({ jsWorkerName: worker, startTime: n })));
      const query = { condition: [{ js_worker_name: worker }, { limit: 2 }] };
      const watched = await watch(() => succeed('js-result_delete', [superToken, query]));
      expect(watched.value.deleted).toBe(2);
      expectOneEntry(watched, { method: 'js-result_delete', token_key: keyOf(superToken), params: { token: '***', query }, affected: 2 });
    });

    it('records the limited caller by its key when it signs in with a password', async () => {
      const worker = unique('aud_mine_');
      const { password, credential, login } = await account([limit([{ js_worker: 'aud_mine_*' }], [{ js_result: { delete: 'aud_mine_*' } }])]);
      await seed(t.dataSource, [{ jsWorkerName: worker }]);
      const query = { condition: [{ js_worker_name: worker }] };
      const watched = await watch(() => succeed('js-result_delete', { token: login, query }));
      expectOneEntry(watched, { method: 'js-result_delete', token_key: keyOf(credential), params: { token: '***', query }, affected: 1 });
      await expectNoneStored([password, secretOf(credential)]);
    });

    it('records nothing for a delete that deleted no rows', async () => {
      const worker = unique('aud_rows_');
      await seed(t.dataSource, [{ jsWorkerName: worker }]);
      const nothingMatches = { condition: [{ js_worker_name: unique('aud_absent_') }] };
      const watched = await watch(() => succeed('js-result_delete', { token: superToken, query: nothingMatches }));
      expect(watched.value.deleted).toBe(0);
      expect(watched.entries).toEqual([]);
      // A token that may delete nowhere is answered without touching the table: still nothing to record.
      const powerless = await t.token([READ_ALL]);
      const refusedNothing = await watch(() => succeed('js-result_delete', { token: powerless, query: { condition: [] } }));
      expect(refusedNothing.value.deleted).toBe(0);
      expect(refusedNothing.entries).toEqual([]);
      expect(await countWhere(t, 'js_result', 'js_worker_name = $1', [worker])).toBe(1);
    });
  });

  describe('js-worker changes', () => {
    it('records create, update and delete by a limited token, env values hidden', async () => {
      const { password, credential, login } = await account([WORKER_ADMIN]);
      const name = unique('aud_worker_');
      const firstKey = unique('sk-live-');
      const secondKey = unique('sk-live-');

      const created = await watch(() =>
        succeed('js-worker_create', { token: login, name, description: 'audited', js_script_base64: b64(SCRIPT), env: { API_KEY: firstKey } }),
      );
      expectOneEntry(created, {
        method: 'js-worker_create',
        token_key: keyOf(credential),
        params: { token: '***', name, description: 'audited', js_script_base64: expect.any(String), env: { API_KEY: '***' } },
        affected: 1,
      });

      const updated = await watch(() => succeed('js-worker_update', { token: login, name, env: { API_KEY: secondKey }, max_run_time: 2_000 }));
      expectOneEntry(updated, {
        method: 'js-worker_update',
        token_key: keyOf(credential),
        params: { token: '***', name, env: { API_KEY: '***' }, max_run_time: 2_000 },
        affected: 1,
      });

      const deleted = await watch(() => succeed('js-worker_delete', [login, name]));
      expectOneEntry(deleted, { method: 'js-worker_delete', token_key: keyOf(credential), params: { token: '***', name }, affected: 1 });

      await expectNoneStored([password, secretOf(credential), firstKey, secondKey]);
    });

    it('records a positional create by name, under the super token', async () => {
      const name = unique('aud_worker_');
      const envValue = unique('token-');
      const watched = await watch(() => succeed('js-worker_create', [superToken, name, null, b64(SCRIPT), { DB_PASSWORD: envValue }]));
      expectOneEntry(watched, {
        method: 'js-worker_create',
        token_key: keyOf(superToken),
        params: { token: '***', name, description: null, js_script_base64: expect.any(String), env: { DB_PASSWORD: '***' } },
        affected: 1,
      });
      await expectNoneStored([secretOf(superToken), envValue]);
    });
  });

  describe('calls that change nothing', () => {
    it('records no read', async () => {
      const name = unique('aud_read_');
      await succeed('js-worker_create', { token: superToken, name, js_script_base64: b64(SCRIPT) });
      const reader = await t.token([READ_ALL]);
      const watched = await watch(async () => {
        await succeed('js-result_query', { token: superToken, query: { condition: [] } });
        await succeed('js-result_query', { token: reader, query: { condition: [{ limit: 1 }] } });
        await succeed('token_get', { token: reader });
        await succeed('token_get', { token: keyOf(reader), supertoken: superToken });
        await succeed('token_list_all_tokens', { token: superToken });
        await succeed('audit_query', { token: superToken });
        await succeed('js-worker_read', { token: superToken, name });
        await succeed('js-worker_list_all_js_worker', { token: superToken });
      });
      expect(watched.entries).toEqual([]);
    });

    /** Everything a refusal could have changed, to show it changed nothing. */
    const state = async () => ({
      tokens: await t.dataSource.query('SELECT id, token_key, token_hash, password_hash, token_limit FROM token ORDER BY id'),
      workers: await t.dataSource.query('SELECT id, name, env, updated_at FROM js_worker ORDER BY id'),
      results: await countWhere(t, 'js_result'),
    });

    interface Fixture {
      limited: string;
      takenUser: string;
      noAccount: string;
      worker: string;
      resultsOf: string;
    }
    let fx: Fixture;

    beforeAll(async () => {
      const taken = await account([]);
      fx = {
        limited: await t.token([READ_ALL]),
        takenUser: taken.username,
        noAccount: await t.token([]),
        worker: unique('aud_taken_'),
        resultsOf: unique('aud_guarded_'),
      };
      await succeed('js-worker_create', { token: superToken, name: fx.worker, js_script_base64: b64(SCRIPT) });
      await seed(t.dataSource, [{ jsWorkerName: fx.resultsOf }, { jsWorkerName: fx.resultsOf }]);
    });

    const wrongSecret = () => `${keyOf(superToken)}:${'x'.repeat(32)}`;

    it.each<[string, number, () => [string, unknown]]>([
      ['token_create with malformed params', -32602, () => ['token_create', { father_token: superToken, token_creation: 'all' }]],
      ['token_create with a wrong secret', 102, () => ['token_create', { father_token: wrongSecret(), token_creation: { token_limit: [] } }]],
      ['token_create by a limited token', 102, () => ['token_create', { father_token: fx.limited, token_creation: { token_limit: [] } }]],
      [
        'token_create with a taken username',
        108,
        () => ['token_create', { father_token: superToken, token_creation: { username: fx.takenUser, password: 'pw', token_limit: [] } }],
      ],
      ['token_create of half an account', 108, () => ['token_create', { father_token: superToken, token_creation: { username: unique('u'), token_limit: [] } }]],
      ['token_edit of the super token', 102, () => ['token_edit', { token: superToken, target_token: keyOf(superToken), limit: [] }]],
      ['token_edit with a limit that is not a list', -32602, () => ['token_edit', { token: superToken, target_token: keyOf(fx.limited), limit: 'none' }]],
      ['token_delete of an unknown target', 105, () => ['token_delete', { token: superToken, target_token: unique('nobody') }]],
      ['token_delete of the super token', 102, () => ['token_delete', { token: superToken, target_token: keyOf(superToken) }]],
      ['token_delete with an unparsable credential', 101, () => ['token_delete', { token: 'garbage', target_token: keyOf(fx.limited) }]],
      ['token_delete by a limited token', 102, () => ['token_delete', { token: fx.limited, target_token: keyOf(fx.noAccount) }]],
      ['token_change_password to an empty password', 108, () => ['token_change_password', { token: superToken, target_token: fx.takenUser, new_password: '' }]],
      ['token_change_password of a token without username', 108, () => ['token_change_password', { token: superToken, target_token: keyOf(fx.noAccount), new_password: 'pw' }]],
      ['token_roll_token_secret of an unknown target', 105, () => ['token_roll_token_secret', { token: superToken, target_token: unique('nobody') }]],
      ['token_roll_token_secret of an empty target', 108, () => ['token_roll_token_secret', { token: superToken, target_token: '' }]],
      ['token_roll_token_secret with a wrong secret', 102, () => ['token_roll_token_secret', { token: wrongSecret(), target_token: keyOf(fx.limited) }]],
      ['js-worker_create of an existing name', 108, () => ['js-worker_create', { token: superToken, name: fx.worker, js_script_base64: b64(SCRIPT) }]],
      ['js-worker_create of a script that does not parse', 108, () => ['js-worker_create', { token: superToken, name: unique('aud_bad_'), js_script_base64: b64('export default {') }]],
      ['js-worker_create without permission', 102, () => ['js-worker_create', { token: fx.limited, name: unique('aud_nope_'), js_script_base64: b64(SCRIPT) }]],
      ['js-worker_create with malformed params', -32602, () => ['js-worker_create', { token: superToken, name: 7, js_script_base64: b64(SCRIPT) }]],
      ['js-worker_update of a missing worker', 105, () => ['js-worker_update', { token: superToken, name: unique('aud_missing_'), description: 'x' }]],
      ['js-worker_update without permission', 102, () => ['js-worker_update', { token: fx.limited, name: fx.worker, description: 'x' }]],
      ['js-worker_delete of a missing worker', 105, () => ['js-worker_delete', { token: superToken, name: unique('aud_missing_') }]],
      ['js-worker_delete with a wrong secret', 102, () => ['js-worker_delete', { token: wrongSecret(), name: fx.worker }]],
      [
        'js-result_delete of a worker the token may not delete',
        102,
        () => ['js-result_delete', { token: fx.limited, query: { condition: [{ js_worker_name: fx.resultsOf }] } }],
      ],
      ['js-result_delete with malformed params', -32602, () => ['js-result_delete', { token: superToken, query: { condition: 'all' } }]],
      ['audit_query by a limited token', 102, () => ['audit_query', { token: fx.limited }]],
    ])('records nothing for %s (refused with %d)', async (_label, code, request) => {
      const [method, params] = request();
      const before = await state();
      const watched = await watch(() => send(method, params));
      expect(watched.value.error?.code).toBe(code);
      expect(watched.entries).toEqual([]);
      expect(await state()).toEqual(before);
    });
  });

  describe('audit_query', () => {
    const query = (params: unknown) => send('audit_query', params);

    it('answers the super token with entries shaped as the contract says', async () => {
      const made = await watch(() => succeed('token_create', { father_token: superToken, token_creation: { token_limit: [] } }));
      const { entries } = await succeed('audit_query', { token: superToken, method: 'token_create', limit: 1 });
      const [stored] = made.entries;
      expect(entries).toEqual([
        { id: stored.id, at: stored.at, token_key: keyOf(superToken), origin: 'rpc', method: 'token_create', params: stored.params, affected: 1 },
      ]);
      expect(Number.isSafeInteger(entries[0].at)).toBe(true);
    });

    it('refuses any token but the super token', async () => {
      const limited = await t.token([READ_ALL]);
      expect((await query({ token: limited })).error.code).toBe(102);
      expect((await query({ token: `${keyOf(superToken)}:${'y'.repeat(32)}` })).error.code).toBe(102);
      expect((await query({ token: `${keyOf(limited)}|nope` })).error.code).toBe(102);
      expect((await query({ token: 'no-separator' })).error.code).toBe(101);
    });

    it.each<[string, Record<string, unknown>]>([
      ['a limit of 0', { limit: 0 }],
      ['a limit of 1001', { limit: 1001 }],
      ['a fractional limit', { limit: 2.5 }],
      ['a limit given as a string', { limit: '10' }],
      ['a from that is not a timestamp', { from: 'yesterday' }],
      ['a fractional to', { to: 1.5 }],
      ['a method that is not a string', { method: 42 }],
    ])('refuses %s with -32602, before looking at the credentials', async (_label, params) => {
      expect((await query({ token: superToken, ...params })).error.code).toBe(-32602);
      expect((await query({ token: 'not-even-a-credential', ...params })).error.code).toBe(-32602);
    });

    it('returns the newest first, by time rather than by insertion', async () => {
      const method = unique('order_');
      const base = 1_600_000_000_000;
      await insertEntries(t, method, [base + 3, base + 1, base + 4, base, base + 2]);
      const { entries } = await succeed('audit_query', { token: superToken, method });
      expect(entries.map((e: any) => e.at)).toEqual([base + 4, base + 3, base + 2, base + 1, base]);
    });

    it('bounds `at` by from and to, both inclusive, and filters by method', async () => {
      const method = unique('window_');
      const base = 1_610_000_000_000;
      await insertEntries(t, method, [base, base + 1, base + 2, base + 3]);
      await insertEntries(t, unique('other_'), [base + 1, base + 2]);
      const { entries } = await succeed('audit_query', { token: superToken, from: base + 1, to: base + 2, method });
      expect(entries.map((e: any) => [e.method, e.at])).toEqual([
        [method, base + 2],
        [method, base + 1],
      ]);
      const unfiltered = await succeed('audit_query', { token: superToken, from: base + 1, to: base + 2 });
      expect(unfiltered.entries).toHaveLength(4);
    });

    it('takes positional params in the order token, from, to, method, limit', async () => {
      const method = unique('positional_');
      const base = 1_620_000_000_000;
      await insertEntries(t, method, [base, base + 1, base + 2, base + 3]);
      const { entries } = await succeed('audit_query', [superToken, base, base + 2, method, 2]);
      expect(entries.map((e: any) => e.at)).toEqual([base + 2, base + 1]);
    });

    it('answers 100 entries by default and at most 1000', async () => {
      const method = unique('bulk_');
      const base = 1_630_000_000_000;
      await insertMany(t, method, 1_050, base);
      const byDefault = await succeed('audit_query', { token: superToken, method });
      expect(byDefault.entries).toHaveLength(100);
      expect(byDefault.entries[0].at).toBe(base + 1_049);
      expect(byDefault.entries[99].at).toBe(base + 950);
      expect((await succeed('audit_query', { token: superToken, method, limit: 1000 })).entries).toHaveLength(1000);
      expect((await succeed('audit_query', { token: superToken, method, limit: null })).entries).toHaveLength(100);
    });
  });

  describe('append-only', () => {
    it('refuses to rewrite an entry, and the entry stays as it was', async () => {
      await succeed('token_create', { father_token: superToken, token_creation: { token_limit: [] } });
      const before = await entriesAfter(0);
      expect(before.some((e) => e.affected !== 0)).toBe(true);
      await expect(t.dataSource.query('UPDATE audit_log SET affected = 0')).rejects.toThrow();
      await expect(t.dataSource.query(`UPDATE audit_log SET params = '{}'::jsonb WHERE method = 'token_create'`)).rejects.toThrow();
      expect(await entriesAfter(0)).toEqual(before);
    });
  });

  describe('atomicity: an entry exists if and only if the change happened', () => {
    /** A trigger that makes every `event` on `table` fail, dropped again whatever the test does. */
    async function withFailing<T>(table: string, event: 'INSERT' | 'DELETE', body: () => Promise<T>): Promise<T> {
      await t.dataSource.query(`CREATE FUNCTION audit_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'refused by the test'; END $$`);
      await t.dataSource.query(`CREATE TRIGGER tr_audit_test_refuse BEFORE ${event} ON ${table} FOR EACH ROW EXECUTE FUNCTION audit_test_refuse()`);
      try {
        return await body();
      } finally {
        await t.dataSource.query(`DROP TRIGGER tr_audit_test_refuse ON ${table}`);
        await t.dataSource.query('DROP FUNCTION audit_test_refuse()');
      }
    }

    it('records nothing for a js-result_delete whose delete fails', async () => {
      const worker = unique('aud_atomic_');
      await seed(t.dataSource, [{ jsWorkerName: worker }, { jsWorkerName: worker }]);
      const watched = await watch(() =>
        withFailing('js_result', 'DELETE', () => send('js-result_delete', { token: superToken, query: { condition: [{ js_worker_name: worker }] } })),
      );
      expect(watched.value.error).toBeDefined();
      expect(watched.entries).toEqual([]);
      expect(await countWhere(t, 'js_result', 'js_worker_name = $1', [worker])).toBe(2);
    });

    it('makes no change whose entry cannot be written', async () => {
      const worker = unique('aud_atomic_');
      const name = unique('aud_atomic_');
      const username = unique('atomic');
      await seed(t.dataSource, [{ jsWorkerName: worker }]);
      const target = await t.token([]);

      const replies = await withFailing('audit_log', 'INSERT', async () => [
        await send('js-result_delete', { token: superToken, query: { condition: [{ js_worker_name: worker }] } }),
        await send('js-worker_create', { token: superToken, name, js_script_base64: b64(SCRIPT) }),
        await send('token_create', { father_token: superToken, token_creation: { username, password: 'pw', token_limit: [] } }),
        await send('token_delete', { token: superToken, target_token: keyOf(target) }),
      ]);

      expect(replies.map((reply) => reply.result)).toEqual([undefined, undefined, undefined, undefined]);
      expect(await countWhere(t, 'js_result', 'js_worker_name = $1', [worker])).toBe(1);
      expect(await countWhere(t, 'js_worker', 'name = $1', [name])).toBe(0);
      expect(await countWhere(t, 'token', 'username = $1', [username])).toBe(0);
      expect(await countWhere(t, 'token', 'token_key = $1', [keyOf(target)])).toBe(1);
    });
  });
});

describe(`audit log retention (${backendName})`, () => {
  const NOW = Date.now();
  let database: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    database = await durableDatabase();
    // Entries older than any retention must already be there when the app under test starts, so they go in through a first app.
    const first = await startTestApp({ auditKeepDays: 0 }, database);
    try {
      await insertEntries(first, 'ancient', [NOW - 400 * DAY_MS, NOW - 3_650 * DAY_MS]);
    } finally {
      await first.close();
    }
    t = await startTestApp({ auditKeepDays: 0 }, database);
  });

  afterAll(async () => {
    await t?.close();
    await database?.drop();
  });

  it('keeps entries of any age when started with AUDIT_KEEP_DAYS=0', async () => {
    // The prune at start is not awaited by the app; give it time to have done its work if it were going to.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await countWhere(t, 'audit_log', `method = 'ancient'`)).toBe(2);
  });

  it('prunes only the entries older than keepDays and says how many', async () => {
    // A `now` long ago, so the entries other tests left are all younger than the cutoff and untouched.
    const now = 1_000_000_000_000;
    const cutoff = now - 30 * DAY_MS;
    await insertEntries(t, 'pruned', [cutoff - 1, cutoff - DAY_MS, cutoff - 100 * DAY_MS]);
    await insertEntries(t, 'kept', [cutoff, cutoff + 1, now]);
    const others = await countWhere(t, 'audit_log', `method NOT IN ('pruned', 'kept')`);

    expect(await t.app.get(AuditService).prune(30, now)).toBe(3);
    expect(await countWhere(t, 'audit_log', `method = 'pruned'`)).toBe(0);
    expect(await countWhere(t, 'audit_log', `method = 'kept'`)).toBe(3);
    expect(await countWhere(t, 'audit_log', `method NOT IN ('pruned', 'kept')`)).toBe(others);
  });

  it('prunes a large backlog whole', async () => {
    const now = 900_000_000_000;
    await insertMany(t, 'backlog', 12_345, now - 1_000 * DAY_MS);
    expect(await t.app.get(AuditService).prune(10, now)).toBe(12_345);
    expect(await countWhere(t, 'audit_log', `method = 'backlog'`)).toBe(0);
    expect(await t.app.get(AuditService).prune(10, now)).toBe(0);
  });
});
