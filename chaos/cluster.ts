import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';

const run = promisify(execFile);

/** Where Debian puts the PostgreSQL 15 server programs; PG_BIN overrides it. */
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

/**
 * initdb and postgres refuse to run as root, so as root the cluster belongs to
 * the `postgres` account and every server program is run through runuser.
 */
const RUN_AS = userInfo().uid === 0 ? 'postgres' : undefined;

function pg(program: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const binary = join(PG_BIN, program);
  return RUN_AS ? run('runuser', ['-u', RUN_AS, '--', binary, ...args]) : run(binary, args);
}

function accountIds(name: string): Promise<{ uid: number; gid: number }> {
  return Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]).then(([u, g]) => ({
    uid: Number(u.stdout.trim()),
    gid: Number(g.stdout.trim()),
  }));
}

/**
 * A throw-away PostgreSQL cluster of the chaos suite's own, on loopback with
 * trust auth: the scenarios stop it, restart it and refuse connections on it,
 * which nobody may do to the machine's shared server.
 */
export class ThrowAwayCluster {
  private constructor(
    private readonly dir: string,
    readonly port: number,
  ) {}

  static async create(port: number): Promise<ThrowAwayCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'jsr-chaos-pg-'));
    if (RUN_AS) {
      const { uid, gid } = await accountIds(RUN_AS);
      chownSync(dir, uid, gid);
      chmodSync(dir, 0o700);
    }
    const cluster = new ThrowAwayCluster(dir, port);
    // fsync off: the scenarios crash the service, never the cluster's machine, so durability on disk is not what is tested.
    await pg('initdb', ['-D', cluster.dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    await cluster.start();
    return cluster;
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async start(): Promise<void> {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
    await pg('pg_ctl', ['-D', this.dataDir, '-o', options, '-l', join(this.dir, 'server.log'), '-w', '-t', '60', 'start']);
  }

  /** `fast` aborts open transactions and disconnects every client, as an operator's restart does. */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await pg('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
  }

  async query<T = Record<string, unknown>>(database: string, sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: this.url(database), application_name: 'jsr-chaos-admin' });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  /** Stops the cluster (if it runs) and deletes every file of it. */
  async destroy(): Promise<void> {
    try {
      await this.stop('immediate');
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
