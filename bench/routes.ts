/**
 * `npm run -s build:tools && node dist-tools/bench/routes.js [--duration S] [--rounds R] [--connections C] [--out DIR]`:
 * worker HTTP route requests per second for a trivial onRoute, beside the same
 * handler written as a plain Fastify route (bench/route-baseline-server.ts).
 *
 * Both run as their own processes, as an operator would run them: the service
 * (built by build:tools) on an embedded database in a temporary directory, so
 * nothing needs setting up; the baseline with Fastify alone. autocannon sends
 * GET requests to the route from this process, `--connections` at once, to one
 * target and then the other, R rounds (each target measured right after the
 * other), and the median round of each is reported. The machine is shared:
 * compare the two figures of one report, not figures across reports.
 */
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { percentile } from './load';
import { type ServerProcess, startNodeServer, startServiceOn } from './processes';
import { TRIVIAL_BODY } from './route-baseline-server';
import { flagReader } from './options';

interface Options {
  durationSec: number;
  warmupSec: number;
  rounds: number;
  connections: number;
  outDir: string;
}

function parseArgs(argv: string[]): Options {
  const value = flagReader(argv);
  return {
    durationSec: Number(value('--duration', '10')),
    warmupSec: Number(value('--warmup', '2')),
    rounds: Number(value('--rounds', '3')),
    connections: Number(value('--connections', '16')),
    outDir: value('--out', 'bench/results/routes'),
  };
}

const ROUTE_NAME = 'bench-trivial';
const ROUTE_PATH = `/nodeget/worker-route/${ROUTE_NAME}/x`;
/** The handler measured: the smallest useful onRoute, answering what the baseline answers. */
const TRIVIAL_ROUTE = `export default {
  onRoute() {
    return new Response(${JSON.stringify(TRIVIAL_BODY)}, { headers: { 'content-type': 'application/json' } });
  },
};`;

interface Round {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
}

const log = (line: string) => process.stdout.write(`${line}\n`);

function load(url: string, durationSec: number, connections: number): Promise<Round> {
  return new Promise((done, fail) => {
    const latencies: number[] = [];
    const started = process.hrtime.bigint();
    const instance = autocannon(
      { url, method: 'GET', connections, duration: durationSec, timeout: 30, verifyBody: (body: string) => body === TRIVIAL_BODY },
      (error, result) => {
        if (error) return fail(error);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const sorted = Float64Array.from(latencies).sort();
        done({
          rps: latencies.length / seconds,
          p50Ms: percentile(sorted, 50),
          p99Ms: percentile(sorted, 99),
          requests: latencies.length,
          errors: result.errors + result.timeouts + result.non2xx + result.mismatches,
        });
      },
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => latencies.push(ms));
  });
}

async function createRouteWorker(service: ServerProcess, token: string): Promise<void> {
  const res = await fetch(`${service.url}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'js-worker_create',
      params: { token, name: 'bench_trivial', js_script_base64: Buffer.from(TRIVIAL_ROUTE).toString('base64'), route_name: ROUTE_NAME },
    }),
  });
  const body = (await res.json()) as { error?: unknown };
  if (body.error !== undefined) throw new Error(`js-worker_create: ${JSON.stringify(body.error)}`);
}

const median = (rounds: Round[]) => [...rounds].sort((a, b) => a.rps - b.rps)[Math.floor(rounds.length / 2)];

function report(options: Options, service: Round[], baseline: Round[]): string {
  const row = (name: string, rounds: Round[]) => {
    const m = median(rounds);
    const all = rounds.map((r) => r.rps.toFixed(0)).join(', ');
    return `| ${name} | ${m.rps.toFixed(0)} | ${m.p50Ms.toFixed(2)} | ${m.p99Ms.toFixed(2)} | ${rounds.reduce((n, r) => n + r.errors, 0)} | ${all} |`;
  };
  const ratio = median(baseline).rps / median(service).rps;
  return [
    '# Worker routes: a trivial onRoute against the same handler as a plain Fastify route',
    '',
    `GET \`${ROUTE_PATH}\`, autocannon, ${options.connections} connections, ${options.rounds} rounds of ${options.durationSec} s per target`,
    `(after ${options.warmupSec} s of warm-up each), the two targets measured one right after the other in each round;`,
    `the median round by requests/s is shown. Generated ${new Date().toISOString()} by \`bench/routes.ts\`.`,
    '',
    '| target | requests/s | p50 ms | p99 ms | errors | requests/s per round |',
    '|---|---|---|---|---|---|',
    row('service: worker route (onRoute in a sandbox)', service),
    row('baseline: plain Fastify route', baseline),
    '',
    `The plain route answers ${ratio.toFixed(1)}× as many requests per second. A route request runs the worker`,
    'in a fresh QuickJS runtime on a sandbox thread (its module evaluated, the Fetch classes loaded in the guest,',
    'the Response read back), where the baseline only writes a constant.',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const dir = await mkdtemp(join(tmpdir(), 'jsr-routes-bench-'));
  const tokenFile = join(dir, 'super-token');
  let service: ServerProcess | undefined;
  let baseline: ServerProcess | undefined;
  try {
    service = await startServiceOn({ dataDir: join(dir, 'data') }, { env: { SUPER_TOKEN_FILE: tokenFile } });
    baseline = await startNodeServer('baseline', resolve(__dirname, 'route-baseline-server.js'), {});
    await createRouteWorker(service, (await readFile(tokenFile, 'utf8')).trim());
    const targets: [ServerProcess, Round[]][] = [
      [service, []],
      [baseline, []],
    ];
    for (const [target] of targets) {
      if (options.warmupSec > 0) await load(`${target.url}${ROUTE_PATH}`, options.warmupSec, options.connections);
    }
    for (let round = 1; round <= options.rounds; round++) {
      for (const [target, rounds] of targets) {
        const measured = await load(`${target.url}${ROUTE_PATH}`, options.durationSec, options.connections);
        rounds.push(measured);
        log(`round ${round} ${target.name}: ${measured.rps.toFixed(0)} req/s, p50 ${measured.p50Ms.toFixed(2)} ms, p99 ${measured.p99Ms.toFixed(2)} ms, ${measured.errors} errors`);
      }
    }
    const text = report(options, targets[0][1], targets[1][1]);
    await mkdir(options.outDir, { recursive: true });
    await writeFile(join(options.outDir, 'REPORT.md'), text);
    await writeFile(join(options.outDir, 'results.json'), `${JSON.stringify({ options, service: targets[0][1], baseline: targets[1][1] }, null, 2)}\n`);
    log(`report written to ${join(options.outDir, 'REPORT.md')}`);
  } finally {
    await Promise.allSettled([service?.stop(), baseline?.stop()]);
    await rm(dir, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
