/** Command-line options of `npm run bench`. */
export interface BenchOptions {
  /** Table sizes to measure, smallest first; the database keeps the last one. */
  sizes: number[];
  durationSec: number;
  /** The measured time of each target is cut into this many slices, run in turns with the other targets. */
  rounds: number;
  warmupSec: number;
  connections: number;
  /** Scenario ids to run (S1…S8). */
  scenarios: string[];
  outDir: string;
  databaseUrl: string;
  /** Pool size of the service and of the bare server alike (the service's default). */
  poolSize: number;
  /** pgbench worker threads (-j). */
  pgbenchThreads: number;
  /** Wait for quiet CPUs before each slice and repeat slices other processes disturbed (off in the smoke test). */
  guardCpu: boolean;
}

export const ALL_SCENARIOS = ['S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7', 'S8'];
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/jsr_bench';

const USAGE = `usage: npm run bench -- [--rows N | --sizes 10000,1000000,10000000] [--duration 10] [--rounds 5] [--warmup 3]
       [--connections 16] [--scenarios S1,S3] [--out bench/results] [--pool-size 10] [--threads 2] [--no-cpu-guard]
The database is DATABASE_URL, else ${DEFAULT_DATABASE_URL} (created if missing).`;

function positiveInteger(flag: string, raw: string | undefined): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${flag}: expected a positive integer, got '${raw}'\n${USAGE}`);
  return value;
}

function nonNegativeInteger(flag: string, raw: string | undefined): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${flag}: expected an integer >= 0, got '${raw}'\n${USAGE}`);
  return value;
}

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const options: BenchOptions = {
    sizes: [1_000_000],
    durationSec: 10,
    rounds: 5,
    warmupSec: 3,
    connections: 16,
    scenarios: ALL_SCENARIOS,
    outDir: 'bench/results',
    databaseUrl: env.DATABASE_URL?.trim() || DEFAULT_DATABASE_URL,
    poolSize: 10,
    pgbenchThreads: 2,
    guardCpu: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    i++;
    switch (flag) {
      case '--rows':
        options.sizes = [positiveInteger(flag, value)];
        break;
      case '--sizes':
        options.sizes = (value ?? '').split(',').map((s) => positiveInteger(flag, s.trim())).sort((a, b) => a - b);
        break;
      case '--duration':
        options.durationSec = positiveInteger(flag, value);
        break;
      case '--rounds':
        options.rounds = positiveInteger(flag, value);
        break;
      case '--warmup':
        options.warmupSec = nonNegativeInteger(flag, value);
        break;
      case '--connections':
        options.connections = positiveInteger(flag, value);
        break;
      case '--scenarios':
        options.scenarios = (value ?? '').split(',').map((s) => s.trim().toUpperCase());
        for (const id of options.scenarios) {
          if (!ALL_SCENARIOS.includes(id)) throw new Error(`--scenarios: unknown scenario '${id}'\n${USAGE}`);
        }
        break;
      case '--out':
        if (!value) throw new Error(`--out needs a directory\n${USAGE}`);
        options.outDir = value;
        break;
      case '--pool-size':
        options.poolSize = positiveInteger(flag, value);
        break;
      case '--threads':
        options.pgbenchThreads = positiveInteger(flag, value);
        break;
      case '--no-cpu-guard':
        options.guardCpu = false;
        i--;
        break;
      case '--help':
      case '-h':
        throw new Error(USAGE);
      default:
        throw new Error(`unknown option '${flag}'\n${USAGE}`);
    }
  }
  return options;
}
