import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service';
import { RouteConcurrency } from './worker-route.concurrency';

/** The label of requests that named no stored route: unknown names must not each become a series. */
export const UNKNOWN_ROUTE = '';

/**
 * Per-route metrics of the worker routes, on the process's registry. The
 * `route` label is a stored route_name (bounded by the js_worker table), or
 * empty for requests that matched none.
 */
@Injectable()
export class WorkerRouteMetrics {
  private readonly requests: Counter<'route' | 'status'>;
  private readonly duration: Histogram<'route'>;

  constructor(metrics: MetricsService, concurrency: RouteConcurrency) {
    const registers = [metrics.registry];
    this.requests = new Counter({
      name: 'jsr_worker_route_requests_total',
      help: 'Worker route requests answered, by route name and HTTP status (empty route: no worker has that route name)',
      labelNames: ['route', 'status'] as const,
      registers,
    });
    this.duration = new Histogram({
      name: 'jsr_worker_route_duration_seconds',
      help: 'Time to answer one worker route request, body read excluded, by route name',
      labelNames: ['route'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    new Gauge({
      name: 'jsr_worker_route_in_flight',
      help: 'Worker route requests running now, over all routes (WORKER_ROUTE_MAX_CONCURRENT bounds it)',
      registers,
      collect() {
        this.set(concurrency.running);
      },
    });
  }

  record(route: string, status: number, seconds: number): void {
    this.requests.inc({ route, status: String(status) });
    if (route !== UNKNOWN_ROUTE) this.duration.observe({ route }, seconds);
  }
}
