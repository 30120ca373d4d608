import { randomBytes } from 'node:crypto';
import { setImmediate as yieldToEventLoop, setTimeout as delay } from 'node:timers/promises';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { BoundedMap } from '../common/bounded-map';
import { DomainError, DomainErrorCode } from '../common/domain.error';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import type { Filter, Selection } from '../js-result/conditions/condition.types';
import { authoriseWorkers } from '../js-result/js-result.access';
import type { RpcSession } from '../json-rpc/rpc-session';
import { MetricsService } from '../metrics/metrics.service';
import { type Auth, canAccessWorker } from '../token/auth';
import { SYSTEM_LOGIN } from '../token/login-budget';
import { TokenAuthenticator } from '../token/token.authenticator';
import { matchesFilters } from './result-filter.matcher';
import { JsResultRepository } from '../js-result/js-result.repository';
import { ResultFinishedListener } from './result-finished.listener';
import { readResultRows, type ResultRow } from './result-rows.reader';
import { SubscriptionIndex } from './subscription.index';

/** The notification each delivered record travels in. */
export const SUBSCRIPTION_NOTIFICATION = 'js-result_subscription';
/** Subscriptions one connection may hold. */
export const MAX_SUBSCRIPTIONS_PER_CONNECTION = 100;
/**
 * Finished ids waiting to be delivered, at most. They queue only while the
 * database announces finishes faster than they are read back; past this the
 * oldest are dropped (and logged) rather than held without bound.
 */
export const MAX_QUEUED_IDS = 200_000;
/** Ids delivered lately, remembered so that a row finishing twice is not sent twice. */
const RECENTLY_DELIVERED = 100_000;

/**
 * Notifications sent between two turns of the event loop: a slice stays
 * short, so 500,000 notifications from one insert are sent in slices, other
 * callers served between them.
 */
const SLICE_SENDS = 256;
/** Bytes sent between two turns of the event loop, whatever the count: large records make short slices. */
const SLICE_BYTES = 1024 * 1024;
/** A subscriber that reads but holds more than this unread is waited for (as long as it keeps reading). */
const PAUSE_PER_CONNECTION_BYTES = 4 * 1024 * 1024;
/** How often queued bytes are looked at again while waiting for readers. */
const PACE_POLL_MS = 5;
/** The close frame's code and reason for a subscriber dropped for the global bound (1013: try again later). */
export const SLOW_SUBSCRIBER_CLOSE_CODE = 1013;
export const SLOW_SUBSCRIBER_CLOSE_REASON = 'subscriber too slow: unread notifications over SUBSCRIPTION_MAX_QUEUED_BYTES';

const NOTIFICATION_HEAD = `{"jsonrpc":"2.0","method":"${SUBSCRIPTION_NOTIFICATION}","params":{"subscription":"`;

interface Subscription {
  readonly id: string;
  readonly filters: readonly Filter[];
  /** The token param as sent: resolved again at each delivery, so a changed token is obeyed at once. */
  readonly credential: string;
  readonly session: RpcSession;
  active: boolean;
}

const notFound = (id: string) => new DomainError(DomainErrorCode.NotFound, `subscription '${id}' not found`);

/**
 * What follows the subscription id in every notification of this row, written
 * once and shared by all subscribers: the record's JSON text as the database
 * wrote it, or, for a record over the per-call reply limit (never loaded), its
 * id, worker and a 108 error saying so.
 */
function notificationTail(row: ResultRow, callLimit: number): string {
  if (row.json !== undefined) return `","result":${row.json}}}`;
  const message = `Invalid input: the record would be ${row.bytes} bytes, over the MAX_CALL_RESPONSE_BYTES limit of ${callLimit} bytes per call; it is not sent`;
  return `","id":${String(row.record.id)},"js_worker_name":${JSON.stringify(row.record.js_worker_name)},"error":{"code":108,"message":${JSON.stringify(message)}}}}`;
}

/**
 * WebSocket subscriptions to finished records. Each finish announced by the
 * database (ResultFinishedListener, every instance) is queued in the order
 * heard; one delivery at a time reads the rows back once, as JSON text
 * measured in the database (see readResultRows), and sends each row to every
 * subscription whose conditions match it and whose token may read its worker
 * now, in that order per subscription. The notification text is built once
 * per row; subscriptions are indexed by the worker they name; sends are made
 * in slices with the event loop served between them, waiting for readers
 * that keep up. Subscriptions live on their connection and end with it.
 *
 * Memory: a connection that does not read is dropped by the transport
 * (WsConnection's unsent-bytes bound), and all subscribers' connections
 * together never hold more than `subscriptionMaxQueuedBytes` unread. A third
 * of it is for open subscribers: past that, those with the most unread are
 * closed (1013, with a reason) until half of their third is left. Two thirds
 * are for the closed ones, which keep their backlog so that a client still
 * reading gets it and then the close frame with the reason; past that, the
 * largest of them are cut at once.
 */
@Injectable()
export class JsResultSubscriptionsService implements OnModuleDestroy {
  private readonly logger = new Logger(JsResultSubscriptionsService.name);
  private readonly bySession = new Map<RpcSession, Map<string, Subscription>>();
  private readonly index = new SubscriptionIndex<Subscription>();
  private count = 0;
  private readonly queue: (readonly string[])[] = [];
  private queuedIds = 0;
  private draining = false;
  private stopped = false;
  private readonly delivered = new BoundedMap<string, true>(RECENTLY_DELIVERED);
  private readonly stopListening: () => void;
  /** Connections closed for the bound, until their close completes. */
  private readonly closing = new Set<RpcSession>();
  /** Connections seen not to read during the current delivery: not waited for again. */
  private stalled = new Set<RpcSession>();
  private readonly maxQueuedBytes: number;
  private readonly callLimit: number;

  constructor(
    private readonly results: JsResultRepository,
    private readonly authenticator: TokenAuthenticator,
    listener: ResultFinishedListener,
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'responses'>,
    private readonly metrics: MetricsService,
  ) {
    this.maxQueuedBytes = config.responses.subscriptionMaxQueuedBytes;
    this.callLimit = config.responses.maxCallResponseBytes;
    this.stopListening = listener.subscribe({
      finished: (ids) => this.heard(ids),
      // Finishes announced while the connection was down cannot be recovered from the announcements.
      missed: () => {
        if (this.count > 0) this.logger.warn('finished-run announcements may have been lost; subscribers may miss records');
      },
    });
  }

  /** Subscriptions held on this process. */
  get size(): number {
    return this.count;
  }

  subscribe(selection: Selection, credential: string, auth: Auth, session: RpcSession | undefined): string {
    if (session === undefined) throw new DomainError(DomainErrorCode.NotAcceptable, 'subscriptions need a WebSocket connection');
    // Named workers are checked as a read would check them (102); otherwise deliveries are narrowed.
    authoriseWorkers(selection, auth, 'read');
    if (this.closing.has(session)) throw new DomainError(DomainErrorCode.NotAcceptable, 'this connection is being closed');
    const held = this.held(session);
    if (held.size >= MAX_SUBSCRIPTIONS_PER_CONNECTION) {
      throw new DomainError(DomainErrorCode.NotAcceptable, `a connection holds at most ${MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions`);
    }
    const id = randomBytes(12).toString('base64url');
    const subscription: Subscription = { id, filters: selection.filters, credential, session, active: true };
    held.set(id, subscription);
    this.index.add(subscription);
    this.count++;
    return id;
  }

  unsubscribe(id: string, session: RpcSession | undefined): true {
    const held = session === undefined ? undefined : this.bySession.get(session);
    const subscription = held?.get(id);
    if (held === undefined || subscription === undefined) throw notFound(id);
    held.delete(id);
    this.forget(subscription);
    return true;
  }

  onModuleDestroy(): void {
    this.stopped = true;
    this.stopListening();
    this.queue.length = 0;
    this.queuedIds = 0;
  }

  /** The subscriptions of a connection, created (and tied to its end) on first use. */
  private held(session: RpcSession): Map<string, Subscription> {
    let held = this.bySession.get(session);
    if (held === undefined) {
      held = new Map();
      this.bySession.set(session, held);
      session.onClose(() => this.ended(session));
    }
    return held;
  }

  private forget(subscription: Subscription): void {
    subscription.active = false;
    this.index.remove(subscription);
    this.count--;
  }

  private ended(session: RpcSession): void {
    const held = this.bySession.get(session);
    if (held === undefined) return;
    for (const subscription of held.values()) this.forget(subscription);
    this.bySession.delete(session);
  }

  private heard(ids: readonly string[]): void {
    // With nobody subscribed an announcement costs nothing more.
    if (this.count === 0 || this.stopped) return;
    this.queue.push(ids);
    this.queuedIds += ids.length;
    let dropped = 0;
    while (this.queuedIds > MAX_QUEUED_IDS && this.queue.length > 1) {
      const oldest = this.queue.shift()!;
      this.queuedIds -= oldest.length;
      dropped += oldest.length;
    }
    if (dropped > 0) this.logger.warn(`subscriptions fell behind the finished runs: ${dropped} records not delivered`);
    if (!this.draining) void this.drain();
  }

  /** One batch at a time, so every subscription sees the records in the order they were announced. */
  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0 && !this.stopped) {
        const ids = this.queue.shift()!;
        this.queuedIds -= ids.length;
        if (this.count === 0) continue;
        try {
          await this.deliver(ids);
        } catch (error) {
          // A bug in one delivery must not end the deliveries, nor the process.
          this.logger.error({ err: error }, `could not deliver ${ids.length} finished records to subscribers`);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /** Reads the rows in pieces of at most one call's reply, in order, and sends each piece. */
  private async deliver(ids: readonly string[]): Promise<void> {
    let pending = ids.filter((id) => !this.delivered.has(id));
    for (const id of pending) this.delivered.set(id, true);
    this.stalled = new Set();
    const auths = new Map<string, Auth | undefined>();
    while (pending.length > 0 && this.count > 0 && !this.stopped) {
      let rows: ResultRow[];
      try {
        rows = await readResultRows(this.results, pending, { rowBytes: this.callLimit, batchBytes: this.callLimit });
      } catch (error) {
        this.logger.warn({ err: error }, `could not read ${pending.length} finished records for subscribers`);
        return;
      }
      const later = rows.findIndex((row) => row.withheld === 'later');
      await this.fanOut(later < 0 ? rows : rows.slice(0, later), auths);
      if (later < 0) return;
      const from = pending.indexOf(String(rows[later].record.id));
      // The first row of a read is always sent: anything else would not move on.
      if (from <= 0) throw new Error('a read of finished records withheld its first row');
      pending = pending.slice(from);
    }
  }

  private async fanOut(rows: readonly ResultRow[], auths: Map<string, Auth | undefined>): Promise<void> {
    let sends = 0;
    let bytes = 0;
    for (const row of rows) {
      const tail = notificationTail(row, this.callLimit);
      const worker = row.record.js_worker_name;
      const mayRead = new Map<Auth, boolean>();
      for (const subscription of this.index.candidates(worker)) {
        // Unsubscribed, or its connection ended, since the row was read.
        if (!subscription.active || !subscription.session.open || !matchesFilters(subscription.filters, row)) continue;
        let auth = auths.get(subscription.credential);
        if (auth === undefined && !auths.has(subscription.credential)) {
          // One resolution per credential per delivery: the cache makes it cheap, and a token changed since is obeyed.
          auths.set(subscription.credential, (auth = await this.currentAuth(subscription.credential)));
          if (!subscription.active || !subscription.session.open) continue;
        }
        if (auth === undefined) continue;
        let may = mayRead.get(auth);
        if (may === undefined) mayRead.set(auth, (may = canAccessWorker(auth, 'read', worker)));
        if (!may) continue;
        subscription.session.notifyText(NOTIFICATION_HEAD + subscription.id + tail);
        sends++;
        bytes += tail.length;
        if (sends >= SLICE_SENDS || bytes >= SLICE_BYTES) {
          sends = 0;
          bytes = 0;
          await this.breathe();
        }
      }
    }
    await this.breathe();
  }

  /** Between slices: the event loop's turn, the global bound, and a wait for readers that keep up. */
  private async breathe(): Promise<void> {
    await yieldToEventLoop();
    this.holdToBound();
    await this.paceReaders();
  }

  /** Unread bytes of every subscriber connection still open. */
  private unread(): Map<RpcSession, number> {
    const unread = new Map<RpcSession, number>();
    for (const session of this.bySession.keys()) if (session.open) unread.set(session, session.unsentBytes);
    return unread;
  }

  /**
   * Over their share of the bound, the open connections with the most unread
   * are closed until half of the share is left; and the connections being
   * closed are cut at once, largest first, while they hold more than theirs.
   */
  private holdToBound(): void {
    const unread = [...this.unread()].sort((a, b) => b[1] - a[1]);
    let total = unread.reduce((sum, [, bytes]) => sum + bytes, 0);
    if (total > this.openShare) {
      for (const [session, bytes] of unread) {
        if (total <= this.openShare / 2) break;
        this.closeSlow(session, bytes);
        total -= bytes;
      }
    }
    const closing = [...this.closing].map((session) => [session, session.unsentBytes] as const).sort((a, b) => b[1] - a[1]);
    let held = closing.reduce((sum, [, bytes]) => sum + bytes, 0);
    for (const [session, bytes] of closing) {
      if (held <= this.maxQueuedBytes - this.openShare) break;
      session.terminate('a slow subscriber being closed still holds too much unread');
      this.closing.delete(session);
      held -= bytes;
    }
  }

  private closeSlow(session: RpcSession, bytes: number): void {
    this.logger.warn(`closing a subscriber with ${bytes} bytes of notifications unread: all subscribers together hold more than a third of SUBSCRIPTION_MAX_QUEUED_BYTES (${this.maxQueuedBytes})`);
    this.ended(session);
    this.closing.add(session);
    session.onClose(() => this.closing.delete(session));
    session.close(SLOW_SUBSCRIBER_CLOSE_CODE, SLOW_SUBSCRIBER_CLOSE_REASON);
    this.metrics.recordSubscriberClosed();
  }

  /**
   * Waits while subscribers that read hold much unread (one more than
   * PAUSE_PER_CONNECTION_BYTES, or all together half their share), as long as
   * they keep taking it: the producer goes at the readers' pace instead of
   * queueing ahead of them. Connections that took nothing while waited for
   * are not waited for again in this delivery; the bounds deal with them.
   */
  private async paceReaders(): Promise<void> {
    let before = this.unread();
    while (!this.stopped && this.pressing(before)) {
      await delay(PACE_POLL_MS);
      const after = this.unread();
      let progressed = false;
      for (const [session, bytes] of after) {
        if (bytes < (before.get(session) ?? 0)) progressed = true;
        else if (bytes > 0) this.stalled.add(session);
      }
      if (!progressed) return;
      before = after;
    }
  }

  private pressing(unread: Map<RpcSession, number>): boolean {
    let total = 0;
    for (const [session, bytes] of unread) {
      if (this.stalled.has(session)) continue;
      if (bytes > PAUSE_PER_CONNECTION_BYTES) return true;
      total += bytes;
    }
    return total > this.openShare / 2;
  }

  /** The part of the bound open subscribers may hold; the rest is for those being closed. */
  private get openShare(): number {
    return this.maxQueuedBytes / 3;
  }

  /** What the token may do now; undefined when it no longer authenticates (deleted, rolled). */
  private async currentAuth(credential: string): Promise<Auth | undefined> {
    try {
      return await this.authenticator.authenticate(credential, SYSTEM_LOGIN);
    } catch (error) {
      if (error instanceof DomainError && error.code === DomainErrorCode.DatabaseUnavailable) {
        this.logger.warn({ err: error }, 'could not check a subscriber token; its records are not delivered');
      }
      return undefined;
    }
  }
}
