import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { DEFAULT_LOGIN_LIMITS, type LoginLimits } from '../src/config/app.config';
import { BATCH_CONCURRENCY } from '../src/json-rpc/json-rpc.dispatcher';
import { LoginBudget } from '../src/token/login-budget';
import { call, queryParams, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';
import { postFrom as post } from './support/loopback-post';

const READ_ALL = [{ scopes: ['global'], permissions: [{ js_result: { read: '*' } }] }];

const INVALID_CREDENTIALS = { code: 102, message: 'Permission denied: Invalid credentials' };
const RETRY_LATER = /^Permission denied: too many failed logins for this (address|username), retry in \d+ s$/;

/** Ignores the throttle, so that a suite can flood from one address. */
const UNTHROTTLED: Partial<LoginLimits> = { failuresPerAddress: 1_000_000, failuresPerUsername: 1_000_000 };

async function startApp(login: Partial<LoginLimits>): Promise<{ t: TestApp; port: number }> {
  const t = await startTestApp({ login: { ...DEFAULT_LOGIN_LIMITS, ...login } });
  await t.app.listen(0, '127.0.0.1');
  return { t, port: (t.app.getHttpServer().address() as AddressInfo).port };
}

const login = (credential: string, id: unknown = 1) => call('token_get', { token: credential }, id);

/** The error of a single call's reply (or its result as `ok`). */
async function loginError(port: number, from: string, credential: string): Promise<{ code: number; message: string } | 'ok'> {
  const reply = await post(port, from, login(credential));
  return reply.error ?? 'ok';
}

async function elapsedMs(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

describe(`login budget (${backendName})`, () => {
  describe('accounts per request and throttling', () => {
    let t: TestApp;
    let port: number;

    beforeAll(async () => {
      ({ t, port } = await startApp({ maxAccountsPerRequest: 3, failuresPerAddress: 5, failuresPerUsername: 2 }));
      for (const username of ['carol', 'dave']) await t.token(READ_ALL, { username, password: `${username} pw` });
    });
    afterAll(() => t.close());

    it('refuses the accounts of a batch past the cap, without checking them, and counts a repeated username once', async () => {
      const batchOf = (usernames: string[]) => usernames.map((u, i) => login(`${u}|wrong`, i));
      const withinCap = await elapsedMs(() => post(port, '127.0.0.2', batchOf(['u0', 'u1', 'u2'])));
      let replies: any[] = [];
      const pastCap = await elapsedMs(async () => {
        replies = await post(port, '127.0.0.3', batchOf(['v0', 'v1', 'v0', 'v2', ...Array.from({ length: 60 }, (_, i) => `w${i}`)]));
      });
      const errors = replies.map((r) => r.error);
      expect(errors.filter((e) => e.message === INVALID_CREDENTIALS.message)).toHaveLength(4);
      expect(errors.filter((e) => e.code === 102 && /too many accounts in one request: at most 3 usernames/.test(e.message))).toHaveLength(60);
      // Sixty more scrypts two at a time would take ~20 times as long as the three.
      expect(pastCap).toBeLessThan(withinCap * 4 + 500);
    });

    it('blocks an address past its failures, even for a right password, and not the same user from another address', async () => {
      for (let i = 0; i < 5; i++) expect(await loginError(port, '127.0.0.4', `nobody${i}|guess`)).toEqual(INVALID_CREDENTIALS);
      const blocked = await loginError(port, '127.0.0.4', 'carol|carol pw');
      expect(blocked).toEqual({ code: 102, message: expect.stringMatching(RETRY_LATER), data: { retry_after_ms: 60_000 } });
      expect(blocked).toMatchObject({ message: expect.stringContaining('for this address, retry in 60 s') });
      expect(await loginError(port, '127.0.0.5', 'carol|carol pw')).toBe('ok');
    });

    it('backs a username off after its failures from any address, the same for an unknown one, and lets a familiar address in', async () => {
      expect(await loginError(port, '127.0.0.9', 'dave|dave pw')).toBe('ok');
      const attack = async (username: string) => {
        for (const from of ['127.0.0.6', '127.0.0.7', '127.0.0.8']) await loginError(port, from, `${username}|guess`);
        return loginError(port, '127.0.0.10', `${username}|guess`);
      };
      const real = await attack('dave');
      const unknown = await attack('ghost');
      expect(real).toEqual({ code: 102, message: 'Permission denied: too many failed logins for this username, retry in 1 s', data: { retry_after_ms: 1_000 } });
      expect(unknown).toEqual(real);
      expect(await loginError(port, '127.0.0.10', 'dave|dave pw')).toEqual(real);
      expect(await loginError(port, '127.0.0.9', 'dave|dave pw')).toBe('ok');
    });

    it('starts a username afresh after a success', async () => {
      await t.token(READ_ALL, { username: 'erin', password: 'erin pw' });
      for (const from of ['127.0.0.11', '127.0.0.12']) expect(await loginError(port, from, 'erin|guess')).toEqual(INVALID_CREDENTIALS);
      expect(await loginError(port, '127.0.0.13', 'erin|erin pw')).toBe('ok');
      for (const from of ['127.0.0.11', '127.0.0.12']) expect(await loginError(port, from, 'erin|guess')).toEqual(INVALID_CREDENTIALS);
    });

    it('leaves key:secret callers alone on a blocked address', async () => {
      const token = await t.token(READ_ALL);
      for (let i = 0; i < 6; i++) await loginError(port, '127.0.0.14', `nobody${i}|guess`);
      expect(await loginError(port, '127.0.0.14', 'carol|carol pw')).toMatchObject({ message: expect.stringMatching(RETRY_LATER) });
      expect(await post(port, '127.0.0.14', call('js-result_query', queryParams(token, [])))).toMatchObject({ result: [] });
    });
  });

  describe('password hashes at once', () => {
    let t: TestApp;
    let port: number;
    let token: string;

    beforeAll(async () => {
      ({ t, port } = await startApp({ ...UNTHROTTLED, maxAccountsPerRequest: 100, maxConcurrentHashes: 1 }));
      token = await t.token(READ_ALL);
    });
    afterAll(() => t.close());

    const unknownLogins = (count: number, prefix: string) =>
      Array.from({ length: count }, (_, i) => login(`${prefix}${i}|guess`, i));

    it('runs no more hashes at once than configured, however many logins come at once', async () => {
      const stats = t.app.get(LoginBudget).hashStats;
      const before = stats.completed;
      await Promise.all([post(port, '127.0.0.1', unknownLogins(7, 'a')), post(port, '127.0.0.2', unknownLogins(7, 'b'))]);
      expect(stats.completed - before).toBe(14);
      expect(stats.peakRunning).toBe(1);
    });

    it('refuses the checks past the queue at once, with a clear error', async () => {
      const queued = DEFAULT_LOGIN_LIMITS.maxQueuedHashes;
      // A batch runs BATCH_CONCURRENCY calls at once: the queue is filled by many requests arriving together.
      // Hashes that finish while the requests are still being admitted free places (more of them when the
      // throttle's statement runs on the main thread, as on the embedded database), so the surplus is ample.
      const requests = Math.ceil((1 + queued + 32) / BATCH_CONCURRENCY);
      const batches: any[][] = await Promise.all(
        Array.from({ length: requests }, (_, r) => post(port, '127.0.0.1', unknownLogins(BATCH_CONCURRENCY, `d${r}_`))),
      );
      const messages = batches.flat().map((r) => r.error.message);
      const refused = messages.filter((m) => m === 'Permission denied: too many password checks in progress, retry in 1 s').length;
      // A hash that finishes while the requests are still being admitted frees a place: a few more may get in.
      expect(refused).toBeGreaterThanOrEqual(3);
      expect(refused).toBeLessThanOrEqual(requests * BATCH_CONCURRENCY - 1 - queued);
      expect(messages.filter((m) => m === INVALID_CREDENTIALS.message)).toHaveLength(messages.length - refused);
    });

    const queryLatencies = (count: number) =>
      sequential(count, () => elapsedMs(() => post(port, '127.0.0.1', call('js-result_query', queryParams(token, [{ limit: 10 }])))));

    it('leaves key:secret callers within their normal latency', async () => {
      await queryLatencies(10);
      const quiet = median(await queryLatencies(30));
      let flooding = true;
      let sent = 0;
      const flooder = async (n: number) => {
        while (flooding) {
          const batch = Array.from({ length: 4 }, (_, i) => login(`flood${n}_${sent++}_${i}|guess`, i));
          await post(port, `127.0.1.${n}`, batch);
        }
      };
      const flooders = Array.from({ length: 16 }, (_, n) => flooder(n + 1));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const during = median(await queryLatencies(30));
      flooding = false;
      await Promise.all(flooders);
      expect(sent).toBeGreaterThan(40);
      expect(during).toBeLessThan(Math.max(quiet * 3, quiet + 30));
    });
  });
});

async function sequential<T>(count: number, work: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < count; i++) out.push(await work());
  return out;
}
