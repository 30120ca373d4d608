import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LOGIN_LIMITS } from '../src/config/app.config';
import { hashPassword, hashSecret, scryptParams } from '../src/token/token.secrets';
import { call, queryParams, startTestApp, type TestApp } from './support/test-app';
import { backendName, createTestDatabase, type TestDatabase } from './support/test-database';
import { postFrom as post } from './support/loopback-post';

const READ_ALL = [{ scopes: ['global'], permissions: [{ js_result: { read: '*' } }] }];
const INVALID_CREDENTIALS = { code: 102, message: 'Permission denied: Invalid credentials' };

/** What test-app.ts hashes new passwords at; the "old" hashes below are made at a different cost. */
const CURRENT_COST = 14;
const OLD_COST = 12;
const CURRENT_PREFIX = `scrypt$${2 ** CURRENT_COST}$8$1$`;

const LIMITS = { ...DEFAULT_LOGIN_LIMITS, maxAccountsPerRequest: 4, failuresPerAddress: 4, failuresPerUsername: 2 };

interface Instance {
  t: TestApp;
  port: number;
}

async function startInstance(database: TestDatabase): Promise<Instance> {
  const t = await startTestApp({ login: LIMITS, scryptCost: CURRENT_COST }, database);
  await t.app.listen(0, '127.0.0.1');
  return { t, port: (t.app.getHttpServer().address() as AddressInfo).port };
}

/** One database for several instances: on the embedded backend a directory, so that it outlives a restart. */
async function sharedDatabase(): Promise<TestDatabase> {
  if (backendName === 'postgres') return createTestDatabase();
  const dataDir = await mkdtemp(join(tmpdir(), 'jsr-login-limits-'));
  return { target: { kind: 'embedded', dataDir }, drop: () => rm(dataDir, { recursive: true, force: true }) };
}

async function loginError(on: Instance, from: string, credential: string): Promise<{ code: number; message: string } | 'ok'> {
  const reply = await post(on.port, from, call('token_get', { token: credential }));
  return reply.error ?? 'ok';
}

/**
 * Login throttling lives in the database, so every instance on it enforces
 * one budget per address and per username. On PostgreSQL the two instances
 * run at once; the embedded database is held by one process, so there the
 * "other instance" is the same data directory after a restart.
 */
describe(`login limits shared by all instances (${backendName})`, () => {
  let database: TestDatabase;
  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    database = await sharedDatabase();
    a = await startInstance(database);
    b = backendName === 'postgres' ? await startInstance(database) : a;
  });

  afterAll(async () => {
    await a?.t.close();
    if (b !== a) await b?.t.close();
    await database?.drop();
  });

  /** The instance that did not take the first calls: the second server, or the first one restarted. */
  async function other(): Promise<Instance> {
    if (backendName === 'postgres') return b;
    await a.t.close();
    a = b = await startInstance(database);
    return b;
  }

  const storedHash = async (username: string) =>
    (await a.t.dataSource.query<{ password_hash: string }[]>('SELECT password_hash FROM token WHERE username = $1', [username]))[0].password_hash;
  const setStoredHash = (username: string, hash: string) =>
    a.t.dataSource.query('UPDATE token SET password_hash = $1 WHERE username = $2', [hash, username]);
  const throttleRows = async (key: string) =>
    Number((await a.t.dataSource.query<{ n: string }[]>('SELECT count(*) AS n FROM login_throttle WHERE throttle_key = $1', [key]))[0].n);

  describe('one budget', () => {
    it('counts an address\'s failures on one instance against the other', async () => {
      await a.t.token(READ_ALL, { username: 'carol', password: 'carol pw' });
      for (let i = 0; i < 4; i++) expect(await loginError(a, '127.0.0.21', `nobody${i}|guess`)).toEqual(INVALID_CREDENTIALS);
      const second = await other();
      expect(await loginError(second, '127.0.0.21', 'carol|carol pw')).toEqual({
        code: 102,
        message: 'Permission denied: too many failed logins for this address, retry in 60 s',
        data: { retry_after_ms: 60_000 },
      });
      expect(await loginError(a, '127.0.0.21', 'carol|carol pw')).toMatchObject({ message: expect.stringContaining('for this address') });
      expect(await loginError(second, '127.0.0.22', 'carol|carol pw')).toBe('ok');
    });

    it('counts a username\'s failures from any address on any instance, the same for an unknown one', async () => {
      await a.t.token(READ_ALL, { username: 'dave', password: 'dave pw' });
      for (const username of ['dave', 'ghost']) {
        for (const from of ['127.0.0.31', '127.0.0.32', '127.0.0.33']) expect(await loginError(a, from, `${username}|guess`)).toEqual(INVALID_CREDENTIALS);
      }
      const second = await other();
      // The third failure set a wait of 1 s; once it is over, the fourth doubles it, wherever it is taken.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const refusal = { code: 102, message: 'Permission denied: too many failed logins for this username, retry in 2 s', data: { retry_after_ms: 2_000 } };
      // Each refusal is checked right after the failure that set it: the next username's password check may take
      // long on a busy machine (hashes run below the process's priority), and the wait counts down meanwhile.
      for (const username of ['dave', 'ghost']) {
        expect(await loginError(second, '127.0.0.34', `${username}|guess`)).toEqual(INVALID_CREDENTIALS);
        expect(await loginError(second, '127.0.0.35', `${username}|guess`)).toEqual(refusal);
        if (username === 'dave') expect(await loginError(second, '127.0.0.35', 'dave|dave pw')).toEqual(refusal);
      }
    });

    it('lets in, on any instance, an address that logged in to the username on another', async () => {
      await a.t.token(READ_ALL, { username: 'erin', password: 'erin pw' });
      expect(await loginError(a, '127.0.0.40', 'erin|erin pw')).toBe('ok');
      const second = await other();
      for (const from of ['127.0.0.41', '127.0.0.42', '127.0.0.43']) expect(await loginError(second, from, 'erin|guess')).toEqual(INVALID_CREDENTIALS);
      expect(await loginError(second, '127.0.0.44', 'erin|erin pw')).toMatchObject({ message: expect.stringContaining('for this username') });
      expect(await loginError(second, '127.0.0.40', 'erin|erin pw')).toBe('ok');
    });

    it('is not touched by key:secret calls, on either instance; password logins are counted there', async () => {
      const token = await a.t.token(READ_ALL);
      const second = await other();
      for (const on of [a, second, a]) {
        expect(await post(on.port, '127.0.0.50', call('js-result_query', queryParams(token, [])))).toMatchObject({ result: [] });
      }
      expect(await throttleRows('a:127.0.0.50')).toBe(0);
      expect(await loginError(second, '127.0.0.50', 'nobody|guess')).toEqual(INVALID_CREDENTIALS);
      expect(await throttleRows('a:127.0.0.50')).toBe(1);
    });
  });

  describe('password hashes at older parameters', () => {
    it('are replaced with the current ones at the next successful login, which the new hash then serves', async () => {
      await a.t.token(READ_ALL, { username: 'frank', password: 'placeholder' });
      const old = await hashPassword('frank pw', scryptParams(OLD_COST));
      await setStoredHash('frank', old);
      const second = await other();
      expect(await loginError(second, '127.0.0.60', 'frank|frank pw')).toBe('ok');
      const upgraded = await storedHash('frank');
      expect(old.startsWith(`scrypt$${2 ** OLD_COST}$8$1$`)).toBe(true);
      expect(upgraded.startsWith(CURRENT_PREFIX)).toBe(true);
      expect(await loginError(a, '127.0.0.61', 'frank|frank pw')).toBe('ok');
      expect(await loginError(a, '127.0.0.61', 'frank|wrong')).toEqual(INVALID_CREDENTIALS);
      expect(await storedHash('frank')).toBe(upgraded);
    });

    it('are never replaced by a wrong password, nor by a right one the throttle refused', async () => {
      await a.t.token(READ_ALL, { username: 'gina', password: 'placeholder' });
      await a.t.token(READ_ALL, { username: 'hank', password: 'placeholder' });
      const old = await hashPassword('gina pw', scryptParams(OLD_COST));
      const nodeGet = hashSecret('hank pw');
      await setStoredHash('gina', old);
      await setStoredHash('hank', nodeGet);
      expect(await loginError(a, '127.0.0.70', 'gina|wrong')).toEqual(INVALID_CREDENTIALS);
      expect(await loginError(a, '127.0.0.70', 'hank|wrong')).toEqual(INVALID_CREDENTIALS);
      for (let i = 0; i < 2; i++) await loginError(a, '127.0.0.70', `nobody${i}|guess`);
      expect(await loginError(a, '127.0.0.70', 'gina|gina pw')).toMatchObject({ message: expect.stringContaining('for this address') });
      expect(await loginError(a, '127.0.0.70', 'hank|hank pw')).toMatchObject({ message: expect.stringContaining('for this address') });
      expect(await storedHash('gina')).toBe(old);
      expect(await storedHash('hank')).toBe(nodeGet);
      // Both are upgraded once a login with the right password gets through.
      expect(await loginError(a, '127.0.0.71', 'hank|hank pw')).toBe('ok');
      expect((await storedHash('hank')).startsWith(CURRENT_PREFIX)).toBe(true);
    });
  });
});
