import { lockDataDir } from './data-dir.lock';
import type { EmbeddedDatabase } from './pglite.pool';
import { EMBEDDED_POSTGRES_SETTINGS } from './pglite.protocol';
import { isNewCluster, templateFile, unpackTemplate } from './pglite.template';
import { PgliteThread, type ThreadEvents } from './pglite.thread';

/** An in-memory embedded database, for tests and throw-away runs. */
export const IN_MEMORY = 'memory://';

/**
 * The embedded database on a thread of its own; a directory is locked to this
 * process while it is open. `spawned` is told once the thread exists (it then
 * opens the database by itself), or once opening failed before that.
 */
export async function openEmbedded(dataDir: string, events: ThreadEvents, spawned?: () => void): Promise<EmbeddedDatabase> {
  const inMemory = dataDir === IN_MEMORY;
  let unlock: () => Promise<void> = async () => undefined;
  try {
    if (!inMemory) unlock = await lockDataDir(dataDir);
    const template = templateFile();
    if (!inMemory && template !== undefined && isNewCluster(dataDir)) unpackTemplate(template, dataDir);
    const starting = PgliteThread.start({ dataDir, settings: EMBEDDED_POSTGRES_SETTINGS, templateFile: template }, events);
    spawned?.();
    const thread = await starting;
    return {
      thread,
      reopenable: !inMemory,
      close: async () => {
        await thread.close();
        await unlock();
      },
    };
  } catch (err) {
    spawned?.();
    await unlock();
    throw err;
  }
}

/** Hands a thread's events to whoever takes the database later; an end before that is remembered. */
class EventRelay implements ThreadEvents {
  private target?: ThreadEvents;
  private endedUnheard = false;

  notification(channel: string, payload: string): void {
    this.target?.notification(channel, payload);
  }

  ended(): void {
    if (this.target) this.target.ended();
    else this.endedUnheard = true;
  }

  /** Whether the thread still ran when `target` took it. */
  attach(target: ThreadEvents): boolean {
    this.target = target;
    return !this.endedUnheard;
  }
}

/** Embedded databases opening ahead of the app (startEmbeddedEarly), by directory, until the app's DataSource takes them. */
const headStarts = new Map<string, { opened: Promise<EmbeddedDatabase>; relay: EventRelay }>();

/**
 * Starts opening the embedded database in `dataDir` now, so that the engine
 * (WebAssembly compiled, the cluster opened, on its own thread) gets ready
 * while the main thread is still loading the app's modules; the app's
 * DataSource then takes it (openEmbeddedOrHeadStart). Resolves once the thread
 * is running, or opening failed (the failure is the DataSource's to report).
 */
export function startEmbeddedEarly(dataDir: string): Promise<void> {
  if (dataDir === IN_MEMORY || headStarts.has(dataDir)) return Promise.resolve();
  const relay = new EventRelay();
  return new Promise((spawned) => {
    const opened = openEmbedded(dataDir, relay, spawned);
    opened.catch(() => undefined);
    headStarts.set(dataDir, { opened, relay });
  });
}

/** The database started early for `dataDir` if there is one, else one opened now. */
export async function openEmbeddedOrHeadStart(dataDir: string, events: ThreadEvents): Promise<EmbeddedDatabase> {
  const early = headStarts.get(dataDir);
  if (early === undefined) return openEmbedded(dataDir, events);
  headStarts.delete(dataDir);
  const db = await early.opened;
  if (early.relay.attach(events)) return db;
  // Its thread ended before anything used it: opened again, as after a crash.
  await db.close().catch(() => undefined);
  return openEmbedded(dataDir, events);
}
