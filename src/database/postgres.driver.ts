import { type Client, defaults, Pool, type PoolClient } from 'pg';
import { ConnectionFailure } from './database.errors';

type Release = (err?: Error | boolean) => void;
type ConnectCallback = (err: Error | undefined, client: PoolClient | undefined, release: Release) => void;

/**
 * The `pg` module as TypeORM's postgres driver uses it (`Pool`, `defaults`),
 * with a pool that marks everything it fails with while handing out a
 * connection as a ConnectionFailure: the wait for a free one timing out, or a
 * new one refused, dropped, unauthenticated, for a missing database, or
 * turned away (not accepting connections, too many). That is where the
 * failure happened, so it is an outage whatever its code.
 */
export function postgresDriver(client: typeof Client): { Pool: typeof Pool; defaults: typeof defaults } {
  class ConnectionPhasePool extends Pool {
    constructor(config?: ConstructorParameters<typeof Pool>[0]) {
      super({ ...config, Client: client });
    }

    // pg-pool's overloads: () → Promise<PoolClient>, (callback) → void.
    override connect(...args: any[]): any {
      const [callback] = args as [ConnectCallback | undefined];
      if (!callback) return super.connect().catch((err: unknown) => Promise.reject(new ConnectionFailure(err)));
      super.connect((err, pooled, release) => callback(err ? new ConnectionFailure(err) : undefined, pooled, release));
    }
  }
  return { Pool: ConnectionPhasePool, defaults };
}
