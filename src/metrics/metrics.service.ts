import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What a queue gauge reads when scraped; gauges of several sources (two gateways, say) add up. */
export type Reading = () => number;

/** The queue gauges: each is read from its owner's own counters at scrape time, never kept up to date on the call path. */
export const QUEUE_GAUGES = {
  jsr_db_pool_connections: 'Connections the database pool holds (the embedded database: 1 once open)',
  jsr_db_pool_idle: 'Pooled connections not lent to a statement',
  jsr_db_pool_waiting: 'Callers waiting for a pooled connection',
  jsr_ws_connections: 'Open JSON-RPC WebSocket connections',
  jsr_subscriptions: 'js-result subscriptions held on this process',
  jsr_result_waiters: 'js-result_wait calls waiting for their row',
  jsr_worker_queue_length: 'JS worker runs admitted and waiting for a free runner thread',
  jsr_worker_busy_runners: 'Runner threads running a script or validating one',
  jsr_worker_runners: 'Runner threads the pool may use (JS_WORKER_POOL_SIZE)',
} as const;

export type QueueGauge = keyof typeof QUEUE_GAUGES;

/** Why a login was refused (jsr_login_refusals_total's `reason`). */
export type LoginRefusal =
  | 'invalid_credentials'
  | 'malformed_token'
  | 'address_throttled'
  | 'username_throttled'
  | 'accounts_per_request'
  | 'hash_queue_full';

/** Prometheus metrics of this process, on a registry of its own (tests start several apps). */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  private readonly calls = new Counter({
    name: 'jsonrpc_calls_total',
    help: 'JSON-RPC calls answered or run as notifications, by method and outcome code (0 = success)',
    labelNames: ['method', 'code'] as const,
    registers: [this.registry],
  });

  private readonly duration = new Histogram({
    name: 'jsonrpc_call_duration_seconds',
    help: 'Time to run one JSON-RPC call, by method',
    labelNames: ['method'] as const,
    // Up to a minute: js-result_wait waits up to 60 s.
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  private readonly tooLarge = new Counter({
    name: 'jsonrpc_replies_too_large_total',
    help: 'Results replaced by error 108 because they did not fit the reply budget, by method (the call itself is counted as a success in jsonrpc_calls_total)',
    labelNames: ['method'] as const,
    registers: [this.registry],
  });

  private readonly loginRefusals = new Counter({
    name: 'jsr_login_refusals_total',
    help: 'Logins refused, by reason: wrong or unknown credentials, malformed token, throttled address or username, too many accounts in one request, password-check queue full',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  private readonly retentionDeleted = new Counter({
    name: 'jsr_retention_deleted_total',
    help: 'js_result rows deleted by retention sweeps of this process',
    registers: [this.registry],
  });

  private readonly subscribersClosed = new Counter({
    name: 'jsr_subscribers_closed_total',
    help: 'Subscriber connections closed because their unread notifications went over SUBSCRIPTION_MAX_QUEUED_BYTES',
    registers: [this.registry],
  });

  private readonly buildInfo = new Gauge({
    name: 'jsr_build_info',
    help: 'Always 1; the labels say which build runs: service version, Node.js version, database backend',
    labelNames: ['version', 'node', 'backend'] as const,
    registers: [this.registry],
  });

  private readonly readings = new Map<QueueGauge, Set<Reading>>();

  private readonly listenReadings = new Map<string, () => boolean>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    for (const [name, help] of Object.entries(QUEUE_GAUGES) as [QueueGauge, string][]) {
      const readings = new Set<Reading>();
      this.readings.set(name, readings);
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          let total = 0;
          for (const read of readings) total += read();
          this.set(total);
        },
      });
    }
    const listening = this.listenReadings;
    new Gauge({
      name: 'jsr_listen_connected',
      help: 'Whether the connection LISTENing for a channel is up (1) or reconnecting (0), by channel',
      labelNames: ['channel'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [channel, up] of listening) this.set({ channel }, up() ? 1 : 0);
      },
    });
  }

  /** Adds a source to a queue gauge, read at each scrape; returns how to remove it. */
  track(gauge: QueueGauge, read: Reading): () => void {
    const readings = this.readings.get(gauge)!;
    readings.add(read);
    return () => readings.delete(read);
  }

  /** Reports a LISTEN connection's state at each scrape. */
  trackListener(channel: string, listening: () => boolean): void {
    this.listenReadings.set(channel, listening);
  }

  setBuildInfo(info: { version: string; node: string; backend: string }): void {
    this.buildInfo.reset();
    this.buildInfo.set(info, 1);
  }

  /** `method` must come from the registered set, never raw from a client, to keep label cardinality bounded. */
  recordCall(method: string, code: number, seconds: number): void {
    this.calls.inc({ method, code: String(code) });
    this.duration.observe({ method }, seconds);
  }

  recordReplyTooLarge(method: string): void {
    this.tooLarge.inc({ method });
  }

  recordLoginRefusal(reason: LoginRefusal): void {
    this.loginRefusals.inc({ reason });
  }

  recordRetentionDeleted(rows: number): void {
    if (rows > 0) this.retentionDeleted.inc(rows);
  }

  recordSubscriberClosed(): void {
    this.subscribersClosed.inc();
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
