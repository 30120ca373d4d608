/**
 * `npm run bench`: the service against a hand-written node:http + pg handler
 * and against pgbench, on the same data and the same SQL. See bench/README.md.
 */
import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { Client } from 'pg';
import { benchSize, newRun, prepareDatabase, type Servers } from './bench';
import { serverFacts } from './database';
import { runEmbeddedBench } from './embedded';
import { parseOptions } from './options';
import { type ServerSettings, startBare, startService } from './processes';
import { writeReport } from './report';

const log = (line: string) => process.stdout.write(`${line}\n`);

const startChildServers = (serviceRoot: string | undefined) => async (settings: ServerSettings): Promise<Servers> => {
  const service = await startService(settings, {}, serviceRoot);
  try {
    return { service, bare: await startBare(settings) };
  } catch (err) {
    await service.stop();
    throw err;
  }
};

/** pgbench must exist, and literals are only inlined safely with standard_conforming_strings on. */
async function checkPrerequisites(databaseUrl: string): Promise<void> {
  if (spawnSync('pgbench', ['--version']).status !== 0) {
    throw new Error('pgbench not found: install postgresql-client (apt-get install -y postgresql-client-15)');
  }
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query('SHOW standard_conforming_strings');
    if (rows[0].standard_conforming_strings !== 'on') throw new Error('standard_conforming_strings must be on');
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options.backend === 'embedded') return runEmbeddedBench(options, log);
  await mkdir(options.outDir, { recursive: true });
  await prepareDatabase(options.databaseUrl);
  await checkPrerequisites(options.databaseUrl);
  const run = newRun(options, await serverFacts(options.databaseUrl));
  log(`benchmark on ${new URL(options.databaseUrl).pathname.slice(1)}: sizes ${options.sizes.join(', ')}, scenarios ${options.scenarios.join(',')}`);
  for (const rows of options.sizes) {
    run.sizes.push(await benchSize(rows, options, startChildServers(options.serviceRoot), log));
    run.finishedAt = new Date().toISOString();
    // Written after every size, so a long run that fails late still leaves its numbers.
    log(`report: ${await writeReport(run, options.outDir)}`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
