/**
 * `npm run chaos`: the service under database outages, crashes, hostile
 * batches, login floods and slow clients, on a throw-away PostgreSQL cluster
 * of its own. Prints one row per scenario and writes chaos/results/REPORT.md
 * and results.json. `--only id,id` runs some scenarios; `--out DIR` writes
 * elsewhere. Exits non-zero when a scenario fails.
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { freePort, startService } from '../bench/processes';
import { ThrowAwayCluster } from './cluster';
import { cronKill } from './cron-kill.scenario';
import { CHAOS_DATABASE, prepareChaosData } from './dataset';
import { deepRow } from './deep-row.scenario';
import { fanOut } from './fan-out.scenario';
import { heavyAndLogins } from './heavy-and-logins.scenario';
import { killDuringDelete } from './kill-during-delete.scenario';
import { postgresRestart } from './postgres-restart.scenario';
import { refusedConnections } from './refused-connections.scenario';
import { type ChaosRun, HEADERS, passed, rowCells, writeReport } from './report';
import type { ChaosContext, ChaosScenario } from './scenario';
import { slowClients } from './slow-clients.scenario';
import { validationFlood } from './validation-flood.scenario';

const SCENARIOS: ChaosScenario[] = [postgresRestart, killDuringDelete, refusedConnections, heavyAndLogins, slowClients, validationFlood, deepRow, fanOut, cronKill];

const log = (line: string) => process.stdout.write(`${line}\n`);

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

function selected(): ChaosScenario[] {
  const only = option('--only')?.split(',');
  if (!only) return SCENARIOS;
  const unknown = only.filter((id) => !SCENARIOS.some((s) => s.id === id));
  if (unknown.length) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.id).join(', ')}`);
  return SCENARIOS.filter((s) => only.includes(s.id));
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const scenarios = selected();
  const outDir = resolve(option('--out') ?? resolve(__dirname, '../../chaos/results'));
  mkdirSync(outDir, { recursive: true });
  const run: ChaosRun = {
    startedAt: new Date().toISOString(),
    machine: `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
    commit: commit(),
    results: [],
    crashed: [],
  };
  log('starting a throw-away PostgreSQL cluster');
  const cluster = await ThrowAwayCluster.create(await freePort());
  try {
    const data = await prepareChaosData(cluster.url(CHAOS_DATABASE), log);
    const context: ChaosContext = {
      cluster,
      data,
      log,
      startServer: (env = {}) => startService({ databaseUrl: data.url, poolSize: 10 }, env),
    };
    for (const scenario of scenarios) {
      log(`${scenario.id}: ${scenario.title}`);
      try {
        const result = await scenario.run(context);
        run.results.push(result);
        log(`  ${HEADERS.map((h, i) => `${h}: ${rowCells(result)[i]}`).join(' | ')}`);
        for (const c of result.checks) log(`    ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
      } catch (err) {
        run.crashed.push({ id: scenario.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
        log(`  CRASHED: ${err instanceof Error ? err.message : String(err)}`);
        // A scenario that died with the cluster down must not take the next ones with it.
        await cluster.start().catch(() => undefined);
        await cluster.query('postgres', `ALTER DATABASE ${CHAOS_DATABASE} WITH ALLOW_CONNECTIONS true`).catch(() => undefined);
      }
    }
  } finally {
    await cluster.destroy();
  }
  run.finishedAt = new Date().toISOString();
  log(`report: ${await writeReport(run, outDir)}`);
  const failed = [...run.results.filter((r) => !passed(r)).map((r) => r.id), ...run.crashed.map((c) => c.id)];
  log(failed.length ? `failed: ${failed.join(', ')}` : `all ${run.results.length} scenarios passed`);
  process.exitCode = failed.length ? 1 : 0;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
