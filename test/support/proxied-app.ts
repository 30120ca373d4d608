import type { AppConfig } from '../../src/config/app.config';
import { startTestApp, type TestApp } from './test-app';
import { createPostgresDatabase, LOCAL_POSTGRES_URL, postgresReachable } from './test-database';
import { TcpProxy } from './tcp-proxy';

export interface ProxiedApp {
  t: TestApp;
  /** Cut it to make the database unreachable; start it again to bring it back. */
  proxy: TcpProxy;
  close(): Promise<void>;
}

/**
 * The app on a fresh PostgreSQL database reached through a proxy the test can
 * cut. Undefined (with a note) when no PostgreSQL server answers, so the
 * suite still passes on a machine without one.
 */
export async function startAppBehindProxy(label: string, overrides: Partial<AppConfig> = {}): Promise<ProxiedApp | undefined> {
  if (!(await postgresReachable())) {
    console.warn(`${label} skipped: no PostgreSQL server at ${LOCAL_POSTGRES_URL}`);
    return undefined;
  }
  const database = await createPostgresDatabase(LOCAL_POSTGRES_URL);
  const real = new URL((database.target as { url: string }).url);
  const proxy = new TcpProxy(real.hostname, Number(real.port || 5432));
  await proxy.start();
  const viaProxy = new URL(real);
  viaProxy.port = String(proxy.port);
  const target = { kind: 'postgres' as const, url: viaProxy.toString() };
  const t = await startTestApp({ ...overrides, database: target }, { target, drop: async () => undefined });
  return {
    t,
    proxy,
    close: async () => {
      await proxy.start();
      await t.close();
      await proxy.cut();
      await database.drop();
    },
  };
}
