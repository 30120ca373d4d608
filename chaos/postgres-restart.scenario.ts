import { outageUnderLoad } from './outage';
import type { ChaosScenario } from './scenario';

/** The operator restarts PostgreSQL under load: every connection of the pool dies at once, and new ones are refused until it is back. */
export const postgresRestart: ChaosScenario = {
  id: 'pg-restart',
  title: 'PostgreSQL restarted mid-load (16-way S1, 5 s down)',
  run: (context) =>
    outageUnderLoad(context, {
      id: 'pg-restart',
      title: postgresRestart.title,
      begin: () => context.cluster.stop('fast'),
      end: () => context.cluster.start(),
    }),
};
