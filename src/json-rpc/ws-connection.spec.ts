import type { AddressInfo } from 'node:net';
import { type ClientOptions, WebSocket, WebSocketServer } from 'ws';
import {
  frameText,
  type JsonRpcFrameHandler,
  WS_IDLE_CLOSE_CODE,
  WS_IDLE_CLOSE_REASON,
  WsConnection,
  type WsConnectionLimits,
} from './ws-connection';
import { WRITE_CHUNK_BYTES } from './json-rpc.codec';
import type { RpcSession } from './rpc-session';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

const LIMITS: WsConnectionLimits = {
  maxFramesInFlight: 4,
  pauseAboveBufferedBytes: 1024 * 1024,
  maxBufferedBytes: 1024 * 1024,
  sendTimeoutMs: 60_000,
  idleTimeoutMs: 60_000,
  pingIntervalMs: 60_000,
};

/** A ws server whose connections are WsConnections over `handler`, and clients to it. */
class Harness {
  readonly server: WebSocketServer;
  readonly serverSockets: WebSocket[] = [];
  private readonly clients: WebSocket[] = [];

  constructor(
    private readonly handler: JsonRpcFrameHandler,
    limits: Partial<WsConnectionLimits> = {},
  ) {
    this.server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    this.server.on('connection', (socket) => {
      this.serverSockets.push(socket);
      const connection = new WsConnection(socket, this.handler, { ...LIMITS, ...limits });
      socket.on('message', (data) => connection.receive(frameText(data)));
    });
  }

  async client(options?: ClientOptions): Promise<{ socket: WebSocket; frames: string[]; closed: Promise<number> }> {
    await new Promise((resolve) => (this.server.address() ? resolve(undefined) : this.server.once('listening', resolve)));
    const { port } = this.server.address() as AddressInfo;
    const socket = new WebSocket(`ws://127.0.0.1:${port}`, options);
    this.clients.push(socket);
    const frames: string[] = [];
    socket.on('message', (data) => frames.push(data.toString()));
    socket.on('error', () => undefined);
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    return { socket, frames, closed };
  }

  async close(): Promise<void> {
    for (const socket of this.clients) socket.terminate();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** A handler whose calls finish when the test says so. */
function controlledHandler() {
  const pending: Array<{ body: string; finish: (reply: string | undefined) => void }> = [];
  let running = 0;
  let maxRunning = 0;
  const handler: JsonRpcFrameHandler = {
    handle: (body) =>
      new Promise((resolve) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        pending.push({
          body,
          finish: (reply) => {
            running--;
            resolve(reply);
          },
        });
      }),
  };
  return { handler, pending, maxRunning: () => maxRunning };
}

describe(WsConnection.name, () => {
  let harness: Harness | undefined;

  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it('processes at most maxFramesInFlight frames at once and stops reading the socket meanwhile', async () => {
    const h = controlledHandler();
    harness = new Harness(h.handler);
    const { socket, frames } = await harness.client();
    for (let i = 0; i < 30; i++) socket.send(`frame ${i}`);
    await waitFor(() => h.pending.length === 4, 'four frames in flight');
    await sleep(50);
    expect(h.pending).toHaveLength(4);
    const serverSide = harness.serverSockets[0];
    expect(serverSide.isPaused).toBe(true);

    // Finishing calls in any order lets the next frames in, never more than four at once.
    let answered = 0;
    while (answered < 30) {
      await waitFor(() => h.pending.length > 0, 'a frame in flight');
      const next = h.pending.splice(h.pending.length - 1, 1)[0];
      next.finish(`reply to ${next.body}`);
      answered++;
    }
    await waitFor(() => frames.length === 30, 'every reply');
    expect(h.maxRunning()).toBe(4);
    expect(new Set(frames)).toEqual(new Set(Array.from({ length: 30 }, (_, i) => `reply to frame ${i}`)));
    expect(serverSide.isPaused).toBe(false);
  });

  it('sends nothing when the handler has nothing to answer, and an internal error when it fails', async () => {
    let calls = 0;
    harness = new Harness({
      handle: async (body) => {
        calls++;
        if (body === 'notification') return undefined;
        throw new Error('a dispatcher bug');
      },
    });
    const { socket, frames } = await harness.client();
    socket.send('notification');
    await waitFor(() => calls === 1, 'the notification to run');
    await sleep(50);
    expect(frames).toEqual([]);
    socket.send('boom');
    await waitFor(() => frames.length === 1, 'the error reply');
    expect(JSON.parse(frames[0])).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32603, message: 'Internal error' } });
    expect(socket.readyState).toBe(WebSocket.OPEN);
  });

  it('terminates a client that does not read once maxBufferedBytes of replies wait unsent', async () => {
    const reply = 'x'.repeat(1024 * 1024);
    let handled = 0;
    harness = new Harness(
      {
        handle: async () => {
          handled++;
          return reply;
        },
      },
      { maxBufferedBytes: 256 * 1024 },
    );
    const { socket, closed } = await harness.client();
    socket.pause();
    for (let i = 0; i < 200; i++) socket.send('call');
    const serverSide = harness.serverSockets[0];
    await waitFor(() => serverSide.readyState === WebSocket.CLOSED, 'the server to terminate the connection', 20_000);
    // The kernel's socket buffers take a few MB first; far from all 200 replies are ever produced.
    expect(handled).toBeLessThan(50);
    socket.resume();
    expect(await closed).toBe(1006);
  });

  it('starts no frame while more than pauseAboveBufferedBytes wait unsent, and answers them all once the client reads', async () => {
    const reply = 'y'.repeat(512 * 1024);
    let handled = 0;
    harness = new Harness(
      {
        handle: async () => {
          handled++;
          return reply;
        },
      },
      { pauseAboveBufferedBytes: 256 * 1024, maxBufferedBytes: 256 * 1024 * 1024 },
    );
    const { socket, frames } = await harness.client();
    socket.pause();
    const sent = 60;
    for (let i = 0; i < sent; i++) socket.send('call');
    await sleep(500);
    // What the kernel's buffers took, and one reply past the bound: far from all 60 (30 MB).
    expect(handled).toBeLessThan(sent / 2);
    expect(harness.serverSockets[0].readyState).toBe(WebSocket.OPEN);
    socket.resume();
    await waitFor(() => frames.length === sent, 'every reply once the client reads', 20_000);
    expect(handled).toBe(sent);
    expect(socket.readyState).toBe(WebSocket.OPEN);
  });

  it('terminates a client that takes none of its replies for sendTimeoutMs, though they are under maxBufferedBytes', async () => {
    const reply = 'z'.repeat(512 * 1024);
    harness = new Harness({ handle: async () => reply }, { pauseAboveBufferedBytes: 256 * 1024, maxBufferedBytes: 256 * 1024 * 1024, sendTimeoutMs: 300 });
    const { socket, closed } = await harness.client();
    socket.pause();
    for (let i = 0; i < 60; i++) socket.send('call');
    const serverSide = harness.serverSockets[0];
    const started = Date.now();
    await waitFor(() => serverSide.readyState === WebSocket.CLOSED, 'the server to drop the client', 10_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    socket.resume();
    expect(await closed).toBe(1006);
  });

  it('keeps a client that reads slowly but steadily, however long its replies take in all', async () => {
    const reply = 'r'.repeat(256 * 1024);
    // Four times the client's pauses: on a loaded machine (CI, two test files at once) a 250 ms pause
    // under a 300 ms timeout was sometimes stretched past it by the scheduler, and the client was dropped.
    const sendTimeoutMs = 1_000;
    harness = new Harness({ handle: async () => reply }, { pauseAboveBufferedBytes: 128 * 1024, maxBufferedBytes: 256 * 1024 * 1024, sendTimeoutMs });
    const { socket, frames } = await harness.client();
    let sent = 0;
    const send = (calls: number) => {
      for (let i = 0; i < calls; i++) socket.send('call');
      sent += calls;
    };
    // Reads in spurts: paused 250 ms (under the timeout) out of every 260, for several timeouts' worth in all.
    // Until then the client keeps the server's queue from running dry, so every pause stalls it: a fixed
    // number of calls was sometimes all read within three timeouts on a quiet machine.
    const started = Date.now();
    const stalling = () => Date.now() - started <= 3 * sendTimeoutMs;
    while ((frames.length < sent || stalling()) && Date.now() - started < 45_000) {
      if (stalling() && sent - frames.length < 120) send(120);
      socket.pause();
      await sleep(250);
      socket.resume();
      await sleep(10);
    }
    expect(frames).toHaveLength(sent);
    expect(Date.now() - started).toBeGreaterThan(3 * sendTimeoutMs);
    expect(harness.serverSockets[0].readyState).toBe(WebSocket.OPEN);
  });

  it('sends a large reply as one message in fragments, and other replies whole after it, never inside it', async () => {
    const large = Buffer.from(JSON.stringify({ pad: 'L'.repeat(3 * WRITE_CHUNK_BYTES) }));
    harness = new Harness({ handle: async (body) => (body === 'large' ? large : `small ${body}`) }, { maxBufferedBytes: 64 * 1024 * 1024 });
    const { socket, frames } = await harness.client();
    const serverSide = harness.serverSockets[0];
    let wsSends = 0;
    const send = serverSide.send.bind(serverSide);
    serverSide.send = ((...args: Parameters<WebSocket['send']>) => {
      wsSends++;
      send(...args);
    }) as WebSocket['send'];
    const bodies = ['large', '1', 'large', '2', '3'];
    for (const body of bodies) socket.send(body);
    await waitFor(() => frames.length === bodies.length, 'every reply');
    expect(frames.filter((f) => f === large.toString())).toHaveLength(2);
    expect(frames.filter((f) => f.startsWith('small ')).sort()).toEqual(['small 1', 'small 2', 'small 3']);
    // Each large reply went as four fragments (the last one short), each small one as one frame.
    expect(wsSends).toBe(2 * Math.ceil(large.length / WRITE_CHUNK_BYTES) + 3);
  });

  it('closes a connection idle for idleTimeoutMs, but not while a call is in flight', async () => {
    harness = new Harness({ handle: () => sleep(300).then(() => 'late reply') }, { idleTimeoutMs: 100 });
    const { socket, frames, closed } = await harness.client();
    const started = Date.now();
    socket.send('slow call');
    const code = await closed;
    expect(frames).toEqual(['late reply']);
    expect(code).toBe(WS_IDLE_CLOSE_CODE);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('sends the idle close reason', async () => {
    harness = new Harness({ handle: async () => undefined }, { idleTimeoutMs: 50 });
    const { socket } = await harness.client();
    const reason = await new Promise<string>((resolve) => socket.once('close', (_code, why) => resolve(why.toString())));
    expect(reason).toBe(WS_IDLE_CLOSE_REASON);
  });

  it('pings every pingIntervalMs and terminates a connection that missed a pong', async () => {
    harness = new Harness({ handle: async () => undefined }, { pingIntervalMs: 50 });
    const answering = await harness.client();
    let pings = 0;
    answering.socket.on('ping', () => pings++);
    const silent = await harness.client({ autoPong: false });
    expect(await silent.closed).toBe(1006);
    await sleep(100);
    expect(pings).toBeGreaterThanOrEqual(2);
    expect(answering.socket.readyState).toBe(WebSocket.OPEN);
  });
});

describe(frameText.name, () => {
  it('reads text and every binary form as UTF-8', () => {
    expect(frameText('{"a":"é"}')).toBe('{"a":"é"}');
    expect(frameText(Buffer.from('{"a":"é"}'))).toBe('{"a":"é"}');
    const bytes = Buffer.from('[1,"é"]');
    expect(frameText(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer)).toBe('[1,"é"]');
    expect(frameText([Buffer.from('[1,'), Buffer.from('2]')])).toBe('[1,2]');
  });
});

describe(`${WsConnection.name} as a session`, () => {
  let harness: Harness | undefined;

  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  /** A handler that keeps the session of each frame and answers nothing. */
  function sessionHandler() {
    const sessions: RpcSession[] = [];
    const handler: JsonRpcFrameHandler = {
      handle: async (_body, request) => {
        if (request.session) sessions.push(request.session);
        return undefined;
      },
    };
    return { handler, sessions };
  }

  it('hands itself to the handler as the session, and writes notifications as JSON-RPC envelopes with exact 64-bit integers', async () => {
    const h = sessionHandler();
    harness = new Harness(h.handler);
    const { socket, frames } = await harness.client();
    socket.send('{}');
    await waitFor(() => h.sessions.length === 1, 'the session');
    const sut = h.sessions[0];
    expect(sut.open).toBe(true);
    sut.notify('js-result_subscription', { subscription: 's1', result: { id: 9007199254740993n } });
    await waitFor(() => frames.length === 1, 'the notification');
    expect(frames[0]).toBe('{"jsonrpc":"2.0","method":"js-result_subscription","params":{"subscription":"s1","result":{"id":9007199254740993}}}');
  });

  it('tells its close listeners once when the connection ends, and at once when it already has; sends nothing then', async () => {
    const h = sessionHandler();
    harness = new Harness(h.handler);
    const { socket, frames } = await harness.client();
    socket.send('{}');
    await waitFor(() => h.sessions.length === 1, 'the session');
    const sut = h.sessions[0];
    let heard = 0;
    let removedHeard = 0;
    sut.onClose(() => heard++);
    const remove = sut.onClose(() => removedHeard++);
    remove();
    socket.close();
    await waitFor(() => heard === 1, 'the close listener');
    expect(removedHeard).toBe(0);
    expect(sut.open).toBe(false);
    let late = 0;
    sut.onClose(() => late++);
    expect(late).toBe(1);
    sut.notify('x', {});
    await sleep(20);
    expect(frames).toHaveLength(0);
    expect(heard).toBe(1);
  });

  it('terminates a client that lets notifications go unread past maxBufferedBytes', async () => {
    const h = sessionHandler();
    harness = new Harness(h.handler, { maxBufferedBytes: 256 * 1024 });
    const { socket, closed } = await harness.client();
    socket.send('{}');
    await waitFor(() => h.sessions.length === 1, 'the session');
    socket.pause();
    const sut = h.sessions[0];
    const big = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 10_000 && sut.open; i++) sut.notify('n', big);
    expect(sut.open).toBe(false);
    socket.resume();
    expect(await closed).toBe(1006);
  });
});
