import { CHAOS_DATABASE } from './dataset';
import { type Outage, outageUnderLoad } from './outage';
import type { ChaosScenario } from './scenario';

/** Runs one statement as an administrator, on a database other than the one refused. */
export type AdminQuery = (sql: string, params?: unknown[]) => Promise<unknown>;

/**
 * The server stays up but refuses the service's database (55000 "not currently
 * accepting connections"), and the open sessions are terminated (57P01), so
 * every call needs a new connection and is refused: what a DBA's maintenance
 * switch or a dropped grant looks like from the service.
 */
export function refusingOutage(admin: AdminQuery, database: string): Outage {
  return {
    id: 'pg-refusing',
    title: 'database refusing connections',
    begin: async () => {
      await admin(`ALTER DATABASE "${database}" WITH ALLOW_CONNECTIONS false`);
      // Only the sessions on this database, which are the service's own.
      await admin('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database]);
    },
    end: async () => {
      await admin(`ALTER DATABASE "${database}" WITH ALLOW_CONNECTIONS true`);
    },
  };
}

export const refusedConnections: ChaosScenario = {
  id: 'pg-refusing',
  title: 'database refusing connections (16-way S1, 5 s refused)',
  run: (context) => {
    const outage = refusingOutage((sql, params) => context.cluster.query('postgres', sql, params), CHAOS_DATABASE);
    return outageUnderLoad(context, { ...outage, title: refusedConnections.title });
  },
};
