import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * The machine is shared: the load generator, both servers and PostgreSQL run
 * on it, and so may other people's work. These helpers tell how much CPU went
 * to processes that are not part of the benchmark, so a disturbed run can be
 * spotted (and repeated) instead of deciding a ratio.
 */

/** Linux reports process times in clock ticks of 1/100 s (USER_HZ) on every common platform. */
const CLOCK_TICKS = 100;

/** All CPUs' time from /proc/stat: busy, total, and stolen by the hypervisor (field 8). */
function systemTimes(): { busy: number; total: number; steal: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - fields[3] - (fields[4] ?? 0), total, steal: fields[7] ?? 0 };
}

function processJiffies(pid: string): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command.
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** Where the CPU time of a measured run went, in CPU-seconds. */
export interface CpuUse {
  /** Share of all CPU time spent by processes outside the benchmark (0–1). */
  foreignShare: number;
  /** Share of all CPU time the hypervisor gave to other machines (0–1). */
  stealShare: number;
  /** The HTTP server under load (service or bare). */
  serverSec: number;
  /** PostgreSQL backends of the bench database. */
  databaseSec: number;
  /** This process (autocannon) and pgbench. */
  loadSec: number;
}

export interface CpuMeter {
  stop(): CpuUse;
}

type Role = 'foreign' | 'server' | 'database' | 'load' | 'shared';

/** The role of a process; "shared" (postmaster, checkpointer, …) is ours but not counted. */
function roleOf(pid: string, serverPid: string, loadPid: string, database: string): Role {
  if (pid === serverPid) return 'server';
  if (pid === loadPid) return 'load';
  try {
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    if (command.startsWith('pgbench')) return 'load';
    // A backend's title: "postgres: [cluster: ]user database host(port) state" (Debian adds "15/main: ").
    const backend = /^postgres: (?:\S+: )?\S+ (\S+) (?:\S+\(\d+\)|\[local\])/.exec(command);
    if (backend) return backend[1] === database ? 'database' : 'foreign';
    return command.startsWith('postgres: ') || command.startsWith('/usr/lib/postgresql/') ? 'shared' : 'foreign';
  } catch {
    return 'shared';
  }
}

/**
 * Samples every process every `everyMs` and adds up CPU time by role.
 * Sampling (rather than two snapshots) also catches processes that come and
 * go within the run (pgbench and its backends, another person's test
 * workers); a process that appears after the start counts from zero.
 */
export function startCpuMeter(serverPid: number | undefined, database: string, everyMs = 250): CpuMeter {
  const server = String(serverPid ?? -1);
  const load = String(process.pid);
  const roles = new Map<string, Role>();
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  const startSystem = systemTimes();
  const sample = (atStart: boolean) => {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      // A process just forked by the postmaster looks like the server until it takes its
      // backend title, so only a definite role is remembered.
      const role = roles.get(pid) ?? roleOf(pid, server, load, database);
      if (role !== 'shared') roles.set(pid, role);
      if (role === 'shared') continue;
      const jiffies = processJiffies(pid);
      if (!first.has(pid)) first.set(pid, atStart ? jiffies : 0);
      last.set(pid, Math.max(last.get(pid) ?? 0, jiffies));
    }
  };
  sample(true);
  const timer = setInterval(() => sample(false), everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      sample(false);
      const end = systemTimes();
      const total = end.total - startSystem.total;
      const sums: Record<Role, number> = { foreign: 0, server: 0, database: 0, load: 0, shared: 0 };
      for (const [pid, jiffies] of last) sums[roles.get(pid)!] += jiffies - (first.get(pid) ?? 0);
      return {
        foreignShare: total > 0 ? Math.min(1, sums.foreign / total) : 0,
        stealShare: total > 0 ? (end.steal - startSystem.steal) / total : 0,
        serverSec: sums.server / CLOCK_TICKS,
        databaseSec: sums.database / CLOCK_TICKS,
        loadSec: sums.load / CLOCK_TICKS,
      };
    },
  };
}

/** Fraction (0–1) of all CPUs busy over the next `windowMs`. */
export async function cpuBusy(windowMs = 1000): Promise<number> {
  const a = systemTimes();
  await new Promise((r) => setTimeout(r, windowMs));
  const b = systemTimes();
  return b.total === a.total ? 0 : (b.busy - a.busy) / (b.total - a.total);
}

/**
 * Share of CPU time the hypervisor steals while every CPU is busy. Steal only
 * shows when the guest wants to run, so the CPUs are kept spinning for
 * `windowMs` (this thread and one worker thread per other CPU).
 */
async function stealUnderLoad(windowMs = 500): Promise<number> {
  const spin = `const end = Date.now() + ${windowMs}; while (Date.now() < end) {}`;
  const before = systemTimes();
  const others = Array.from({ length: Math.max(0, cpus().length - 1) }, () => new Worker(spin, { eval: true }));
  const exited = others.map((worker) => new Promise((resolve) => worker.once('exit', resolve)));
  const end = Date.now() + windowMs;
  while (Date.now() < end) {
    // spinning on purpose
  }
  await Promise.all(exited);
  const after = systemTimes();
  return after.total > before.total ? (after.steal - before.steal) / (after.total - before.total) : 0;
}

/**
 * Waits (up to maxWaitMs) until the CPUs are quiet while everything of ours is
 * idle, and until the hypervisor is not taking a noticeable share of them.
 */
export async function waitForQuietCpu(log: (line: string) => void, threshold = 0.15, maxWaitMs = 120_000): Promise<void> {
  const deadline = Date.now() + maxWaitMs;
  let busy = await cpuBusy();
  if (busy > threshold) log(`    waiting for the CPUs to go quiet (${(busy * 100).toFixed(0)}% busy with other work)`);
  while (busy > threshold && Date.now() < deadline) busy = await cpuBusy(2000);
  let steal = await stealUnderLoad();
  if (steal > 0.05) log(`    waiting for the host: the hypervisor takes ${(steal * 100).toFixed(0)}% of the CPUs`);
  while (steal > 0.05 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    steal = await stealUnderLoad();
  }
}
