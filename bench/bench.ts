import { writeFile } from 'node:fs/promises';
import { cpus, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import type { RowsStatements } from './rows-statements';
import { openBenchStatements } from './call-sql';
import { applySchema, createTokens, dataShape, ensureDatabase, type Log, repairInterruptedDelete, seedIfNeeded } from './database';
import { explain } from './explain';
import type { BenchOptions } from './options';
import type { ServerProcess, ServerSettings } from './processes';
import { type BenchRun, explainFileText, type PlanRecord, type SizeResult } from './report';
import { type RunSettings, runScenario, type ScenarioResult } from './scenario-runner';
import { SCENARIOS, scenarioStatement, sortBound } from './scenarios';

export interface Servers {
  service: ServerProcess;
  bare: ServerProcess;
}

/** How the two HTTP servers are started: child processes for the benchmark, in-process for the smoke test. */
export type StartServers = (settings: ServerSettings) => Promise<Servers>;

async function stopAll(servers: Partial<Servers>): Promise<void> {
  await Promise.all([servers.service?.stop(), servers.bare?.stop()]);
}

async function explainAll(
  options: BenchOptions,
  statements: RowsStatements,
  rows: number,
): Promise<{ plans: PlanRecord[]; explainFile: string }> {
  const chosen = SCENARIOS.filter((s) => options.scenarios.includes(s.id));
  const entries = [];
  const plans: PlanRecord[] = [];
  for (const scenario of chosen) {
    const statement = scenarioStatement(statements, scenario, rows);
    const explained = await explain(options.databaseUrl, statement, sortBound(scenario));
    const title = scenario.batch > 1 ? `${scenario.title} (each call runs this)` : scenario.title;
    entries.push({ id: scenario.id, title, sql: statement.text, values: statement.values, plan: explained.text });
    plans.push({ id: scenario.id, sql: statement.text, check: explained.check });
  }
  const explainFile = `explain-${rows}.txt`;
  await writeFile(join(options.outDir, explainFile), explainFileText(rows, entries));
  return { plans, explainFile };
}

/** Seeds (if needed), starts both servers, runs every chosen scenario against the three targets, explains. */
export async function benchSize(rows: number, options: BenchOptions, startServers: StartServers, log: Log): Promise<SizeResult> {
  log(`\n== ${rows.toLocaleString('en-US')} rows ==`);
  const seed = await seedIfNeeded(options.databaseUrl, rows, log);
  await repairInterruptedDelete(options.databaseUrl, rows, log);
  const tokens = await createTokens(options.databaseUrl);
  // The service's statement builder, for pgbench and EXPLAIN; closed whatever happens.
  const builder = await openBenchStatements(options.databaseUrl);
  try {
    const scenarios = await runScenarios(rows, options, startServers, { tokens, statements: builder.statements, log });
    const { plans, explainFile } = await explainAll(options, builder.statements, rows);
    return { rows, seeded: seed.seeded, seedSeconds: seed.seconds, shape: await dataShape(options.databaseUrl), scenarios, plans, explainFile };
  } finally {
    await builder.close();
  }
}

async function runScenarios(
  rows: number,
  options: BenchOptions,
  startServers: StartServers,
  { tokens, statements, log }: Pick<RunSettings, 'tokens' | 'statements' | 'log'>,
): Promise<ScenarioResult[]> {
  const servers = await startServers({ databaseUrl: options.databaseUrl, poolSize: options.poolSize });
  const scenarios: ScenarioResult[] = [];
  try {
    for (const scenario of SCENARIOS.filter((s) => options.scenarios.includes(s.id))) {
      log(`${scenario.id}: ${scenario.title}`);
      scenarios.push(
        await runScenario(scenario, {
          databaseUrl: options.databaseUrl,
          rows,
          durationSec: options.durationSec,
          rounds: options.rounds,
          warmupSec: options.warmupSec,
          connections: options.connections,
          pgbenchThreads: options.pgbenchThreads,
          guardCpu: options.guardCpu,
          service: { url: servers.service.url, pid: servers.service.pid },
          bare: { url: servers.bare.url, pid: servers.bare.pid },
          tokens,
          statements,
          log,
        }),
      );
    }
  } finally {
    await stopAll(servers);
  }
  return scenarios;
}

export function machineFacts(): Record<string, string> {
  const cpu = cpus();
  return {
    CPU: `${cpu[0]?.model ?? 'unknown'} × ${cpu.length}`,
    Memory: `${(totalmem() / 1024 ** 3).toFixed(0)} GiB`,
    OS: `${type()} ${release()}`,
    Node: process.version,
  };
}

export async function prepareDatabase(url: string): Promise<void> {
  await ensureDatabase(url);
  await applySchema(url);
}

export function newRun(options: BenchOptions, postgres: Record<string, string>): BenchRun {
  return {
    startedAt: new Date().toISOString(),
    finishedAt: '',
    machine: machineFacts(),
    postgres,
    settings: {
      durationSec: options.durationSec,
      rounds: options.rounds,
      warmupSec: options.warmupSec,
      connections: options.connections,
      poolSize: options.poolSize,
      pgbenchThreads: options.pgbenchThreads,
    },
    sizes: [],
  };
}
