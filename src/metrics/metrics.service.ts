import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

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
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  private readonly tooLarge = new Counter({
    name: 'jsonrpc_replies_too_large_total',
    help: 'Results replaced by error 108 because they did not fit the reply budget, by method (the call itself is counted as a success in jsonrpc_calls_total)',
    labelNames: ['method'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** `method` must come from the registered set, never raw from a client, to keep label cardinality bounded. */
  recordCall(method: string, code: number, seconds: number): void {
    this.calls.inc({ method, code: String(code) });
    this.duration.observe({ method }, seconds);
  }

  recordReplyTooLarge(method: string): void {
    this.tooLarge.inc({ method });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
