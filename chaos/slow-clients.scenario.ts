import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { percentile } from '../bench/load';
import { sampleRss } from '../bench/processes';
import { CutWatcher, type Watched } from './connections';
import { HEAVY_WORKER } from './dataset';
import { fmtMs } from './outage';
import { loop, rpcBody, startClock } from './rpc-client';
import { callCounts, check, type ChaosScenario, delay, neverFailsCheck, peakRssCheck, type ScenarioResult } from './scenario';
import { latency, mergeTallies, round, tally } from './tally';

const CLIENTS = 16;
const BASELINE_MS = 5_000;
/** The longest the slow clients are kept: the scenario ends sooner once the server has cut them all. */
const HOLD_MS = 45_000;
const MIN_HOLD_MS = 10_000;
const HEADER_DRIBBLERS = 100;
const BODY_STALLERS = 100;
const WS_NON_READERS = 20;
/** Frames each non-reading WebSocket sends: replies of ~250 kB the server must hold or drop. */
const WS_FRAMES = 50;
const P99_RATIO_LIMIT = 3;

function opened(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Sends a request's headers one byte a second and never ends them (slowloris). */
async function headerDribbler(port: number): Promise<{ socket: Socket; stop(): void }> {
  const socket = await opened(port);
  socket.on('error', () => undefined);
  socket.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Slow: ');
  const timer = setInterval(() => socket.writable && socket.write('a'), 1_000);
  return { socket, stop: () => clearInterval(timer) };
}

/** Announces a body of 10 kB, sends a few bytes of it, and nothing more. */
async function bodyStaller(port: number): Promise<{ socket: Socket; stop(): void }> {
  const socket = await opened(port);
  socket.on('error', () => undefined);
  socket.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{"jsonrpc":"2.0",');
  return { socket, stop: () => undefined };
}

/** Opens a WebSocket, stops reading it, and asks for large replies the server must buffer or drop. */
function wsNonReader(port: number, token: string): Promise<{ socket: Socket; stop(): void }> {
  return new Promise((resolve, reject) => {
    // The connection is made here, so that its port can be watched without reaching into ws.
    let socket: Socket | undefined;
    const createConnection = () => (socket = connect(port, '127.0.0.1'));
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false, createConnection });
    ws.on('error', () => undefined);
    ws.once('unexpected-response', () => reject(new Error('WebSocket upgrade refused')));
    ws.once('open', () => {
      ws.pause();
      for (let id = 1; id <= WS_FRAMES; id++) {
        ws.send(rpcBody('js-result_query', { token, query: { condition: [{ js_worker_name: HEAVY_WORKER }, { limit: 1_000 }] } }, id));
      }
      resolve({ socket: socket!, stop: () => ws.terminate() });
    });
  });
}

function cutSummary(watched: Watched[]): { cut: number; of: number; medianMs?: number; maxMs?: number } {
  const times = Float64Array.from(watched.filter((w) => w.cutAt !== undefined).map((w) => w.cutAt! - w.openedAt)).sort();
  if (times.length === 0) return { cut: 0, of: watched.length };
  return { cut: times.length, of: watched.length, medianMs: round(percentile(times, 50), 0), maxMs: round(times[times.length - 1], 0) };
}

/**
 * 16-way S1 while 100 clients dribble headers, 100 stall mid-body and 20
 * WebSocket clients stop reading after asking for large replies. S1 must keep
 * answering at its normal latency, and the server must cut every slow client
 * (each connection's server side is watched in /proc/net/tcp) without its
 * RSS growing toward 1 GiB.
 */
export const slowClients: ChaosScenario = {
  id: 'slow-clients',
  title: `16-way S1 while ${HEADER_DRIBBLERS} header dribblers, ${BODY_STALLERS} body stallers and ${WS_NON_READERS} non-reading WebSockets hold connections`,
  async run(context): Promise<ScenarioResult> {
    const started = Date.now();
    const server = await context.startServer();
    const port = Number(new URL(server.url).port);
    const rss = sampleRss(server.pid);
    const clock = startClock();
    const watcher = new CutWatcher(port, clock);
    const slow: { socket: Socket; stop(): void }[] = [];
    try {
      const url = `${server.url}/`;
      const baseline = await loop({ url, body: context.data.s1Body, concurrency: CLIENTS, durationMs: BASELINE_MS, timeoutMs: 15_000, clock });
      const phaseStart = clock();
      const s1 = loop({
        url,
        body: context.data.s1Body,
        concurrency: CLIENTS,
        durationMs: HOLD_MS,
        timeoutMs: 15_000,
        clock,
        until: () => clock() - phaseStart > MIN_HOLD_MS && watcher.allCut(),
      });
      await delay(500);
      const failedToOpen: Record<string, number> = {};
      const open = async (kind: string, make: () => Promise<{ socket: Socket; stop(): void }>) => {
        try {
          const client = await make();
          slow.push(client);
          watcher.add(kind, client.socket.localPort!);
        } catch {
          failedToOpen[kind] = (failedToOpen[kind] ?? 0) + 1;
        }
      };
      for (let i = 0; i < HEADER_DRIBBLERS; i++) await open('header-dribbler', () => headerDribbler(port));
      for (let i = 0; i < BODY_STALLERS; i++) await open('body-staller', () => bodyStaller(port));
      for (let i = 0; i < WS_NON_READERS; i++) await open('ws-non-reader', () => wsNonReader(port, context.data.tokens.super));
      watcher.start();
      const s1Replies = await s1;
      watcher.stop();
      const heldMs = clock() - phaseStart;
      const peak = rss.stop().peakBytes;

      const base = latency(baseline);
      const under = latency(s1Replies);
      const s1Counts = tally(s1Replies);
      const all = mergeTallies(tally(baseline), s1Counts);
      const p99Ratio = round(under.p99Ms / base.p99Ms);
      const byKind = (kind: string) => cutSummary(watcher.watched.filter((w) => w.kind === kind));
      const kinds = { 'header-dribbler': byKind('header-dribbler'), 'body-staller': byKind('body-staller'), 'ws-non-reader': byKind('ws-non-reader') };
      const describe = (k: keyof typeof kinds) => `${kinds[k].cut}/${kinds[k].of}${kinds[k].maxMs !== undefined ? ` (median ${fmtMs(kinds[k].medianMs)}, last ${fmtMs(kinds[k].maxMs)})` : ''}`;
      return {
        id: this.id,
        title: this.title,
        ...callCounts(all),
        peakRssBytes: peak,
        recovery: `cut within ${fmtMs(heldMs)}: dribblers ${describe('header-dribbler')}, stallers ${describe('body-staller')}, WS ${describe('ws-non-reader')}`,
        checks: [
          neverFailsCheck('S1', s1Counts),
          check(`S1 p99 within ×${P99_RATIO_LIMIT} of its baseline`, p99Ratio <= P99_RATIO_LIMIT, `${base.p99Ms} → ${under.p99Ms} ms (×${p99Ratio})`),
          check('every header dribbler cut', kinds['header-dribbler'].cut === HEADER_DRIBBLERS, describe('header-dribbler')),
          check('every body staller cut', kinds['body-staller'].cut === BODY_STALLERS, describe('body-staller')),
          check('every non-reading WebSocket cut', kinds['ws-non-reader'].cut === WS_NON_READERS, describe('ws-non-reader')),
          peakRssCheck(peak),
        ],
        details: { s1Baseline: base, s1UnderSlowClients: under, cuts: kinds, failedToOpen, heldMs: round(heldMs, 0) },
        seconds: round((Date.now() - started) / 1000, 1),
      };
    } finally {
      watcher.stop();
      for (const client of slow) {
        client.stop();
        client.socket.destroy();
      }
      rss.stop();
      await server.stop();
    }
  },
};
