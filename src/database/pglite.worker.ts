import { parentPort, workerData } from 'node:worker_threads';
import { parse, PGlite, protocol, type Results } from '@electric-sql/pglite';
import {
  type EngineSettings,
  type FromEngine,
  type PgLikeResult,
  PGLITE_JSON_AS_TEXT_PARSERS,
  PGLITE_WORKER_FLAG,
  serializeError,
  type ToEngine,
} from './pglite.protocol';
import { ReplyBytes, readReply, type TypeParsers } from './pglite.reply';
import { isNewCluster, readTemplate, writeTemplate } from './pglite.template';

/**
 * The embedded database's thread: the one PGlite instance of the process, so
 * that executing statements never holds up the main thread's event loop.
 *
 * PGlite has one session. A statement runs as soon as it is its turn unless a
 * transaction is open: then only statements of the lease that opened it run,
 * and the others wait until it ends. So between two statements of one caller
 * the session is not left idle waiting for the main thread's next message, and
 * a transaction is still isolated as on a server's connection.
 */

interface Job {
  /** The lease it belongs to; undefined for the thread's own work (LISTEN), which runs outside any transaction. */
  lease?: number;
  run(): Promise<void>;
}

const post = (message: FromEngine) => parentPort!.postMessage(message);

function toPgResult(result: Results): PgLikeResult {
  return {
    rows: result.rows,
    rowCount: result.rowCount ?? result.affectedRows ?? result.rows.length,
    command: (result as { command?: string }).command,
  };
}

class Engine {
  private readonly queue: Job[] = [];
  /** The lease whose transaction is open: only its statements may run. */
  private owner?: number;
  private running = false;
  private readonly listeners = new Map<string, () => Promise<void>>();
  /** Texts prepared as named statements, with their parameters' types. */
  private readonly statements = new Map<string, number[]>();
  private jsonAsTextParsers?: TypeParsers;

  constructor(private readonly db: PGlite) {}

  receive(message: ToEngine): void {
    switch (message.op) {
      case 'query':
        this.enqueue({ lease: message.lease, run: () => this.query(message) });
        break;
      case 'release':
        this.released(message.lease);
        break;
      case 'listen':
        this.enqueue({ run: () => this.listen(message.id, message.channel) });
        break;
      case 'unlisten':
        this.enqueue({ run: () => this.unlisten(message.id, message.channel) });
        break;
      case 'close':
        this.enqueue({ run: () => this.close(message.id) });
        break;
    }
  }

  private enqueue(job: Job): void {
    this.queue.push(job);
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    const next = this.queue.findIndex((job) => this.owner === undefined || job.lease === this.owner);
    if (next < 0) return;
    const [job] = this.queue.splice(next, 1);
    this.running = true;
    try {
      await job.run();
    } finally {
      this.owner = this.db.closed || !this.db.isInTransaction() ? undefined : job.lease;
      this.running = false;
    }
    void this.pump();
  }

  /**
   * A lease given back inside its transaction (its caller failed before
   * COMMIT or ROLLBACK): the transaction is rolled back, or it would swallow
   * the next caller's statements.
   */
  private released(lease: number): void {
    if (this.owner !== lease) return;
    this.queue.unshift({
      lease,
      run: async () => {
        await this.db.exec('ROLLBACK').catch(() => undefined);
      },
    });
    void this.pump();
  }

  private async query(message: Extract<ToEngine, { op: 'query' }>): Promise<void> {
    const { id, name, text, params } = message;
    const parsers = message.jsonAsText ? PGLITE_JSON_AS_TEXT_PARSERS : undefined;
    try {
      const hasParams = params !== undefined && params.length > 0;
      const result =
        name !== undefined && hasParams
          ? await this.named(name, text, params, message.jsonAsText)
          : hasParams || parsers !== undefined
            ? toPgResult(await this.db.query(text, params, { parsers }))
            : // Without parameters TypeORM may send several statements at once (migrations do).
              lastOf(await this.db.exec(text));
      post({ kind: 'done', id, result });
    } catch (err) {
      this.failed(id, err);
    }
  }

  /**
   * A statement the service runs over and over (PreparedStatements), as a
   * named statement: parsed, and its parameters' types learnt, once; then each
   * call is one trip into the engine (bind, describe, execute, sync) where
   * PGlite's `query` makes six. Values are serialised by those types, as
   * `query` does. Its answer is read from the wire bytes here (readReply):
   * PGlite's own reading copies every field and builds a message object per
   * row, which cost this thread about as much as executing a short read.
   */
  private async named(name: string, text: string, params: unknown[], jsonAsText: boolean): Promise<PgLikeResult> {
    const { serialize } = protocol;
    let paramTypes = this.statements.get(text);
    if (paramTypes === undefined) {
      // Closing first: a name whose preparation failed halfway must not block the next attempt.
      const prepared = await this.db.execProtocol(
        frames([serialize.close({ type: 'S', name }), serialize.parse({ name, text }), serialize.describe({ type: 'S', name }), serialize.sync()]),
      );
      paramTypes = parse.parseDescribeStatementResults(prepared.messages);
      this.statements.set(text, paramTypes);
    }
    const types = paramTypes;
    const values = params.map((value, i) => {
      if (value === null || value === undefined) return null;
      const serializer = this.db.serializers[types[i]];
      return serializer ? (serializer(value) as string) : String(value);
    });
    const answer = new ReplyBytes();
    await this.db.execProtocolRawStream(
      frames([serialize.bind({ statement: name, values }), serialize.describe({ type: 'P' }), serialize.execute({}), serialize.sync()]),
      { onRawData: answer.push },
    );
    const reply = readReply(answer.bytes, this.parsersFor(jsonAsText));
    // PGlite hands notifications to its listeners only from its own reading: these are handed on here.
    for (const { channel, payload } of reply.notifications) this.notify(channel, payload);
    if (reply.error) throw reply.error;
    return reply.result;
  }

  /** The engine's type parsers, with json and jsonb as text for a JSON_AS_TEXT statement; merged once, not per call. */
  private parsersFor(jsonAsText: boolean): TypeParsers {
    if (jsonAsText) return (this.jsonAsTextParsers ??= { ...this.db.parsers, ...PGLITE_JSON_AS_TEXT_PARSERS });
    return this.db.parsers as TypeParsers;
  }

  /** A notification read by readReply, to the channel LISTENed under that server name. */
  private notify(serverName: string, payload: string): void {
    for (const channel of this.listeners.keys()) if (serverNameOf(channel) === serverName) post({ kind: 'notification', channel, payload });
  }

  private async listen(id: number, channel: string): Promise<void> {
    try {
      if (!this.listeners.has(channel)) {
        this.listeners.set(channel, await this.db.listen(channel, (payload) => post({ kind: 'notification', channel, payload })));
      }
      post({ kind: 'done', id });
    } catch (err) {
      this.failed(id, err);
    }
  }

  private async unlisten(id: number, channel: string): Promise<void> {
    try {
      await this.listeners.get(channel)?.();
      this.listeners.delete(channel);
      post({ kind: 'done', id });
    } catch (err) {
      this.failed(id, err);
    }
  }

  private async close(id: number): Promise<void> {
    if (!this.db.closed) await this.db.close().catch(() => undefined);
    post({ kind: 'done', id });
  }

  /**
   * A statement error is the statement's fault unless the engine is gone:
   * closed under it, or the WebAssembly runtime aborted, after which it answers
   * nothing. Then the thread ends, and the pool starts another.
   */
  private failed(id: number, err: unknown): void {
    // WebAssembly.RuntimeError, by name: the compiled libraries do not declare WebAssembly's types.
    const engineBroken = this.db.closed || (err instanceof Error && err.name === 'RuntimeError');
    post({ kind: 'failed', id, error: serializeError(err), engineBroken });
    if (engineBroken) process.exit(1);
  }
}

/** A channel's name as the server folds it (PGlite's toPostgresName): as written when quoted, else in lower case. */
function serverNameOf(channel: string): string {
  return channel.startsWith('"') && channel.endsWith('"') && channel.length > 1 ? channel.slice(1, -1) : channel.toLowerCase();
}

/** Protocol messages sent in one trip. */
function frames(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function lastOf(results: Results[]): PgLikeResult {
  const last = results[results.length - 1];
  return last ? toPgResult(last) : { rows: [], rowCount: 0 };
}

const startParams = (settings: EngineSettings) => [...PGlite.defaultStartParams, ...settings.settings.flatMap((setting) => ['-c', setting])];

/** Opens the database; a new one is unpacked from the template when there is one, and made the template when not. */
async function open(settings: EngineSettings): Promise<PGlite> {
  const options = { startParams: startParams(settings) };
  const { dataDir, templateFile } = settings;
  if (templateFile === undefined || !isNewCluster(dataDir)) return PGlite.create(dataDir, options);
  const template = readTemplate(templateFile);
  if (template === undefined) {
    const db = await PGlite.create(dataDir, options);
    await writeTemplate(db, templateFile);
    return db;
  }
  return PGlite.create(dataDir, { ...options, loadDataDir: template });
}

async function main(settings: EngineSettings): Promise<void> {
  let db: PGlite;
  try {
    db = await open(settings);
  } catch (err) {
    post({ kind: 'open-failed', error: serializeError(err) });
    return;
  }
  const engine = new Engine(db);
  parentPort!.on('message', (message: ToEngine) => engine.receive(message));
  post({ kind: 'ready' });
}

if (parentPort && (workerData as Record<string, unknown> | undefined)?.[PGLITE_WORKER_FLAG]) {
  void main((workerData as { settings: EngineSettings }).settings);
}
