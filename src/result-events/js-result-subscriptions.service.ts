import { randomBytes } from 'node:crypto';
import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { BoundedMap } from '../common/bounded-map';
import { DomainError, DomainErrorCode } from '../common/domain.error';
import type { Filter, Selection } from '../js-result/conditions/condition.types';
import { authoriseWorkers } from '../js-result/js-result.access';
import type { RpcSession } from '../json-rpc/rpc-session';
import { type Auth, canAccessWorker } from '../token/auth';
import { SYSTEM_LOGIN } from '../token/login-budget';
import { TokenAuthenticator } from '../token/token.authenticator';
import { matchesFilters } from './result-filter.matcher';
import { ResultFinishedListener } from './result-finished.listener';
import { readResultRows, type ResultRow } from './result-rows.reader';

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

interface Subscription {
  readonly id: string;
  readonly filters: readonly Filter[];
  /** The token param as sent: resolved again at each delivery, so a changed token is obeyed at once. */
  readonly credential: string;
  readonly session: RpcSession;
}

const notFound = (id: string) => new DomainError(DomainErrorCode.NotFound, `subscription '${id}' not found`);

/**
 * WebSocket subscriptions to finished records. Each finish announced by the
 * database (ResultFinishedListener, every instance) is queued in the order
 * heard; one delivery at a time reads the rows back once and sends each to
 * every subscription whose conditions match it and whose token may read its
 * worker now, per subscription in that order. Subscriptions live on their
 * connection and end with it; a connection that does not read what it is sent
 * is dropped by the transport (WsConnection's unsent-bytes bound).
 */
@Injectable()
export class JsResultSubscriptionsService implements OnModuleDestroy {
  private readonly logger = new Logger(JsResultSubscriptionsService.name);
  private readonly bySession = new Map<RpcSession, Map<string, Subscription>>();
  private count = 0;
  private readonly queue: (readonly string[])[] = [];
  private queuedIds = 0;
  private draining = false;
  private stopped = false;
  private readonly delivered = new BoundedMap<string, true>(RECENTLY_DELIVERED);
  private readonly stopListening: () => void;

  constructor(
    private readonly dataSource: DataSource,
    private readonly authenticator: TokenAuthenticator,
    listener: ResultFinishedListener,
  ) {
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
    const held = this.held(session);
    if (held.size >= MAX_SUBSCRIPTIONS_PER_CONNECTION) {
      throw new DomainError(DomainErrorCode.NotAcceptable, `a connection holds at most ${MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions`);
    }
    const id = randomBytes(12).toString('base64url');
    held.set(id, { id, filters: selection.filters, credential, session });
    this.count++;
    return id;
  }

  unsubscribe(id: string, session: RpcSession | undefined): true {
    const held = session === undefined ? undefined : this.bySession.get(session);
    if (!held?.delete(id)) throw notFound(id);
    this.count--;
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

  private ended(session: RpcSession): void {
    const held = this.bySession.get(session);
    if (held === undefined) return;
    this.count -= held.size;
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
        if (this.count > 0) await this.deliver(ids);
      }
    } finally {
      this.draining = false;
    }
  }

  private async deliver(ids: readonly string[]): Promise<void> {
    const fresh = ids.filter((id) => !this.delivered.has(id));
    if (fresh.length === 0) return;
    for (const id of fresh) this.delivered.set(id, true);
    let rows: Map<string, ResultRow>;
    try {
      rows = await readResultRows(this.dataSource, fresh);
    } catch (error) {
      this.logger.warn({ err: error }, `could not read ${fresh.length} finished records for subscribers`);
      return;
    }
    const records = fresh.flatMap((id) => rows.get(id) ?? []);
    if (records.length === 0) return;
    // One resolution per credential per batch: the cache makes it cheap, and a token changed since is obeyed.
    const auths = new Map<string, Promise<Auth | undefined>>();
    for (const subscription of this.subscriptions()) {
      let auth = auths.get(subscription.credential);
      if (auth === undefined) auths.set(subscription.credential, (auth = this.currentAuth(subscription.credential)));
      this.send(subscription, records, await auth);
    }
  }

  private *subscriptions(): Generator<Subscription> {
    for (const held of [...this.bySession.values()]) yield* [...held.values()];
  }

  private send(subscription: Subscription, rows: readonly ResultRow[], auth: Auth | undefined): void {
    // Unsubscribed, or its connection ended, while the batch was read.
    if (auth === undefined || !this.bySession.get(subscription.session)?.has(subscription.id)) return;
    for (const row of rows) {
      if (!subscription.session.open) return;
      if (!matchesFilters(subscription.filters, row) || !canAccessWorker(auth, 'read', row.record.js_worker_name)) continue;
      subscription.session.notify(SUBSCRIPTION_NOTIFICATION, { subscription: subscription.id, result: row.record });
    }
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
