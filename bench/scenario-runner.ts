import type { RowsStatements } from './rows-statements';
import { type CpuUse, startCpuMeter, waitForQuietCpu } from './cpu';
import { DELETE_WORKER, DELETE_WORKER_INDEX } from './dataset';
import { type Log, type Refiller, restoreWorker, startRefiller } from './database';
import { type LoadResult, type RawRun, runHttpLoad, summarise } from './load';
import { pgbenchScript, runPgbench } from './pgbench';
import { type RssSample, type RssSampler, sampleRss } from './processes';
import { type BenchTokens, replyCheckFor, requestBody, requestFrame, type Scenario, scenarioStatement, type Transport } from './scenarios';
import { runWsLoad } from './ws-load';

export type TargetName = 'service' | 'bare' | 'ceiling';
export const TARGETS: TargetName[] = ['service', 'bare', 'ceiling'];

/** A slice during which other processes or the hypervisor took more than this share of the CPUs is repeated. */
const MAX_DISTURBANCE = 0.1;
const MAX_TRIES_PER_SLICE = 4;
/** Before measuring a disturbed slice again, give the disturbance time to pass. */
const PAUSE_BEFORE_RETRY_MS = 10_000;

export interface HttpTarget {
  /** `http://host:port`; its WebSocket endpoint is `ws://host:port/` (wsUrl). */
  url: string;
  /** Process whose CPU time and RSS are measured. */
  pid: number;
}

export interface RunSettings {
  databaseUrl: string;
  rows: number;
  /** Measured seconds per target, split into `rounds` slices. */
  durationSec: number;
  rounds: number;
  warmupSec: number;
  connections: number;
  pgbenchThreads: number;
  /** Wait for quiet CPUs before a slice, and repeat a slice other processes disturbed. */
  guardCpu: boolean;
  service: HttpTarget;
  bare: HttpTarget;
  tokens: BenchTokens;
  /** Builds the statement pgbench runs, as the service builds it. */
  statements: RowsStatements;
  log: Log;
}

/** One target's pooled slices and what surrounded them. */
export interface TargetRun extends LoadResult {
  /** Share of all CPU time taken by processes outside the benchmark during the kept slices (0–1). */
  foreignCpu: number;
  /** Share of all CPU time stolen by the hypervisor during the kept slices (0–1). */
  stealCpu: number;
  /** Slices measured again because other processes or the hypervisor disturbed them. */
  repeatedSlices: number;
  /** CPU time per request, in µs, of the server process, the database backends and the load generator. */
  cpuPerRequestUs: { server: number; database: number; load: number };
  /** S6: rows actually deleted per second (the racing deletes that found nothing left out). */
  deletedPerSec?: number;
  /** S7: RSS of the server process over the whole scenario (warm-up included). */
  rss?: RssSample;
}

export interface ScenarioResult {
  id: string;
  title: string;
  batch: number;
  /** How service and bare were called (pgbench is the same either way). */
  transport: Transport;
  results: Record<TargetName, TargetRun>;
}

/** Everything of one target's slices, added up. */
class Pooled {
  latenciesMs: number[] = [];
  seconds = 0;
  errors = 0;
  serverSec = 0;
  databaseSec = 0;
  loadSec = 0;
  foreignWeighted = 0;
  stealWeighted = 0;
  deleted = 0;
  repeated = 0;

  add(run: RawRun, cpu: CpuUse, deleted: number): void {
    for (const latency of run.latenciesMs) this.latenciesMs.push(latency);
    this.seconds += run.seconds;
    this.errors += run.errors;
    this.serverSec += cpu.serverSec;
    this.databaseSec += cpu.databaseSec;
    this.loadSec += cpu.loadSec;
    this.foreignWeighted += cpu.foreignShare * run.seconds;
    this.stealWeighted += cpu.stealShare * run.seconds;
    this.deleted += deleted;
  }

  result(measuresDeletes: boolean, rss?: RssSample): TargetRun {
    const load = summarise(this.latenciesMs, this.seconds, this.errors);
    const perRequest = (seconds: number) => (load.requests > 0 ? (seconds * 1e6) / load.requests : NaN);
    return {
      ...load,
      foreignCpu: this.seconds > 0 ? this.foreignWeighted / this.seconds : 0,
      stealCpu: this.seconds > 0 ? this.stealWeighted / this.seconds : 0,
      repeatedSlices: this.repeated,
      cpuPerRequestUs: { server: perRequest(this.serverSec), database: perRequest(this.databaseSec), load: perRequest(this.loadSec) },
      deletedPerSec: measuresDeletes ? this.deleted / this.seconds : undefined,
      rss,
    };
  }
}

function loadOnce(scenario: Scenario, target: TargetName, durationSec: number, settings: RunSettings, measured: boolean): Promise<RawRun> {
  if (target === 'ceiling') {
    const statement = scenarioStatement(settings.statements, scenario, settings.rows);
    return runPgbench(
      {
        databaseUrl: settings.databaseUrl,
        script: pgbenchScript(Array.from({ length: scenario.batch }, () => statement)),
        clients: settings.connections,
        threads: settings.pgbenchThreads,
        durationSec,
      },
      measured,
    );
  }
  if (scenario.transport === 'ws') {
    return runWsLoad({
      url: wsUrl(settings[target].url),
      frame: requestFrame(scenario, settings.tokens),
      connections: settings.connections,
      durationSec,
      verify: replyCheckFor(scenario),
    });
  }
  return runHttpLoad({
    url: settings[target].url,
    body: requestBody(scenario, settings.tokens),
    connections: settings.connections,
    durationSec,
    verify: replyCheckFor(scenario),
  });
}

/** The WebSocket endpoint on a server's HTTP port: the root path, where autocannon posts too. */
export function wsUrl(httpUrl: string): string {
  const url = new URL('/', httpUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

const databaseOf = (url: string) => decodeURIComponent(new URL(url).pathname.slice(1));

/** One measured slice, with the CPU accounting and the deleted-row count around it only. */
async function slice(scenario: Scenario, target: TargetName, seconds: number, settings: RunSettings, refiller?: Refiller) {
  if (settings.guardCpu) await waitForQuietCpu(settings.log);
  const deletedBefore = (await refiller?.deletedSoFar()) ?? 0;
  const meter = startCpuMeter(target === 'ceiling' ? undefined : settings[target].pid, databaseOf(settings.databaseUrl));
  const run = await loadOnce(scenario, target, seconds, settings, true);
  const cpu = meter.stop();
  const deleted = ((await refiller?.deletedSoFar()) ?? 0) - deletedBefore;
  return { run, cpu, deleted };
}

function describe(run: TargetRun): string {
  const deleted = run.deletedPerSec === undefined ? '' : `, ${run.deletedPerSec.toFixed(0)} rows deleted/s`;
  const rss = run.rss ? `, RSS ${(run.rss.beforeBytes / 2 ** 20).toFixed(0)} → ${(run.rss.peakBytes / 2 ** 20).toFixed(0)} MB` : '';
  const cpu = run.cpuPerRequestUs;
  const cpuText = `CPU µs/req server ${cpu.server.toFixed(0)} db ${cpu.database.toFixed(0)} load ${cpu.load.toFixed(0)}`;
  return `${run.rps.toFixed(0)} req/s, p50 ${run.p50Ms.toFixed(2)} ms, p99 ${run.p99Ms.toFixed(2)} ms, errors ${run.errors}${deleted}${rss}; ${cpuText}; foreign CPU ${(run.foreignCpu * 100).toFixed(0)}%, steal ${(run.stealCpu * 100).toFixed(0)}%`;
}

/**
 * Warms each target up, then measures them in turns: the measured time of
 * each target is cut into `rounds` slices run round-robin (service, bare,
 * ceiling, service, …), so a slower stretch of a shared machine falls on all
 * three rather than deciding a ratio. Latencies of all slices are pooled.
 */
export async function runScenario(scenario: Scenario, settings: RunSettings): Promise<ScenarioResult> {
  const rounds = Math.max(1, Math.min(settings.rounds, settings.durationSec));
  const sliceSec = Math.max(1, Math.round(settings.durationSec / rounds));
  const pooled = Object.fromEntries(TARGETS.map((t) => [t, new Pooled()])) as Record<TargetName, Pooled>;
  const samplers: Partial<Record<TargetName, RssSampler>> = scenario.measureRss
    ? { service: sampleRss(settings.service.pid), bare: sampleRss(settings.bare.pid) }
    : {};
  const refiller = scenario.deletes ? await startRefiller(settings.databaseUrl, DELETE_WORKER, DELETE_WORKER_INDEX) : undefined;
  try {
    if (settings.warmupSec > 0) {
      for (const target of TARGETS) await loadOnce(scenario, target, settings.warmupSec, settings, false);
    }
    for (let round = 0; round < rounds; round++) {
      for (const target of TARGETS) {
        for (let tries = 1; ; tries++) {
          const measured = await slice(scenario, target, sliceSec, settings, refiller);
          // Time taken by other processes or stolen by the hypervisor both slow one target only.
          const disturbance = measured.cpu.foreignShare + measured.cpu.stealShare;
          const undisturbed = disturbance <= MAX_DISTURBANCE || !settings.guardCpu;
          if (undisturbed || tries === MAX_TRIES_PER_SLICE) {
            pooled[target].add(measured.run, measured.cpu, measured.deleted);
            break;
          }
          pooled[target].repeated++;
          settings.log(`    ${target}: ${(disturbance * 100).toFixed(0)}% of the CPUs went elsewhere (other processes, hypervisor): slice repeated`);
          await new Promise((resolve) => setTimeout(resolve, PAUSE_BEFORE_RETRY_MS));
        }
      }
    }
  } finally {
    if (refiller) {
      await refiller.stop();
      await restoreWorker(settings.databaseUrl, DELETE_WORKER_INDEX, DELETE_WORKER, settings.rows);
    }
  }
  const results = {} as Record<TargetName, TargetRun>;
  for (const target of TARGETS) {
    results[target] = pooled[target].result(Boolean(scenario.deletes), samplers[target]?.stop());
    settings.log(`  ${scenario.id} ${target.padEnd(7)}: ${describe(results[target])}`);
  }
  return { id: scenario.id, title: scenario.title, batch: scenario.batch, transport: scenario.transport, results };
}
