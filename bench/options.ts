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
  /** `postgres` (service, bare server and pgbench on DATABASE_URL) or `embedded` (the service on PGlite, bench/embedded.ts). */
  backend: 'postgres' | 'embedded';
  /** The embedded backend's data directory (default data/bench-embedded-<rows>). */
  dataDir?: string;
  /** Another checkout whose build (dist/) is measured instead of this one (embedded backend: before and after a change). */
  serviceRoot?: string;
}

export const EMBEDDED_DEFAULT_ROWS = 100_000;
export const ALL_SCENARIOS = ['S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7', 'S8', 'S9'];
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/jsr_bench';

const USAGE = `usage: npm run bench -- [--rows N | --sizes 10000,1000000,10000000] [--duration 10] [--rounds 5] [--warmup 3]
       [--connections 16] [--scenarios S1,S3] [--out bench/results] [--pool-size 10] [--threads 2] [--no-cpu-guard]
       [--backend postgres|embedded] [--data-dir DIR] [--service-root DIR]
The database is DATABASE_URL, else ${DEFAULT_DATABASE_URL} (created if missing); with --backend embedded,
a PGlite directory (default data/bench-embedded-<rows>, seeded if needed), 100,000 rows and S1,S3,S7 unless told,
the report in bench/results/embedded.`;

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
    backend: 'postgres',
  };
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    i++;
    given.add(flag);
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
      case '--backend':
        if (value !== 'postgres' && value !== 'embedded') throw new Error(`--backend: postgres or embedded, got '${value}'\n${USAGE}`);
        options.backend = value;
        break;
      case '--data-dir':
        if (!value) throw new Error(`--data-dir needs a directory\n${USAGE}`);
        options.dataDir = value;
        break;
      case '--service-root':
        if (!value) throw new Error(`--service-root needs a directory\n${USAGE}`);
        options.serviceRoot = value;
        break;
      case '--help':
      case '-h':
        throw new Error(USAGE);
      default:
        throw new Error(`unknown option '${flag}'\n${USAGE}`);
    }
  }
  if (options.backend === 'embedded') {
    // The embedded figures: S1 and S3 over 100k rows, and the large read.
    if (!given.has('--rows') && !given.has('--sizes')) options.sizes = [EMBEDDED_DEFAULT_ROWS];
    if (!given.has('--scenarios')) options.scenarios = ['S1', 'S3', 'S7'];
    if (!given.has('--out')) options.outDir = 'bench/results/embedded';
  }
  return options;
}

/**
 * `--flag value` lookups for the smaller bench tools (cron, routes, lifecycle, footprint…),
 * which take a handful of flags each with a default.
 */
export function flagReader(argv: readonly string[]): (flag: string, fallback: string) => string {
  return (flag, fallback) => {
    const i = argv.indexOf(flag);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
  };
}
