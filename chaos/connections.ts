import { readFileSync } from 'node:fs';

/** TCP states of /proc/net/tcp that mean the server still holds the connection open. */
const ESTABLISHED = '01';

/**
 * The server side's TCP state of each connection to `serverPort`, keyed by the
 * client's port, read from /proc/net/tcp (IPv4 loopback). It tells when the
 * server cut a connection even when the client never reads, so it never sees
 * the FIN.
 */
export function serverSideStates(serverPort: number): Map<number, string> {
  const states = new Map<number, string>();
  const text = readFileSync('/proc/net/tcp', 'utf8');
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4) continue;
    const local = Number.parseInt(fields[1].split(':')[1], 16);
    const remote = Number.parseInt(fields[2].split(':')[1], 16);
    if (local === serverPort) states.set(remote, fields[3]);
  }
  return states;
}

export interface Watched {
  kind: string;
  clientPort: number;
  openedAt: number;
  cutAt?: number;
}

/** Polls the server side of watched connections and notes when each stops being established. */
export class CutWatcher {
  readonly watched: Watched[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly serverPort: number,
    private readonly clock: () => number,
  ) {}

  add(kind: string, clientPort: number): void {
    this.watched.push({ kind, clientPort, openedAt: this.clock() });
  }

  start(everyMs = 200): void {
    this.timer = setInterval(() => this.poll(), everyMs);
  }

  poll(): void {
    const states = serverSideStates(this.serverPort);
    const now = this.clock();
    for (const w of this.watched) {
      if (w.cutAt === undefined && states.get(w.clientPort) !== ESTABLISHED) w.cutAt = now;
    }
  }

  allCut(): boolean {
    return this.watched.length > 0 && this.watched.every((w) => w.cutAt !== undefined);
  }

  stop(): void {
    clearInterval(this.timer);
    this.poll();
  }
}
