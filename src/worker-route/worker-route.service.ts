import { Inject, Injectable, Logger } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DomainError, DomainErrorCode } from '../common/domain.error';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import type { JsWorker } from '../js-worker/js-worker.entity';
import { isRouteName, JsWorkerRoutes, type RouteRunOutcome } from '../js-worker/js-worker.routes';
import { JsWorkerService } from '../js-worker/js-worker.service';
import type { RouteRequest } from '../js-worker/runtime/route.types';
import { NOT_A_RESPONSE } from '../js-worker/runtime/route.types';
import { routeBodyOf } from './worker-route.body';
import { RouteConcurrency } from './worker-route.concurrency';
import { RouteFailure } from './worker-route.errors';
import { UNKNOWN_ROUTE, WorkerRouteMetrics } from './worker-route.metrics';
import type { RouteAnswer } from './worker-route.reply';
import { answerFrom } from './worker-route.response';

/** The request header that tells the worker who called (NodeGet's name); a client's own is replaced. */
export const CONNECTING_IP_HEADER = 'ng-connecting-ip';

/** Seconds a refused caller is asked to wait: the requests ahead of it take about that long. */
const RETRY_AFTER_SECONDS = 1;

/**
 * Answers a worker route request: finds the worker serving the route, runs
 * its onRoute on a sandbox thread (no js_result row, as NodeGet), and turns
 * the Response into the answer, or says why not (RouteFailure).
 */
@Injectable()
export class WorkerRouteService {
  private readonly logger = new Logger(WorkerRouteService.name);
  private readonly maxBodyBytes: number;

  constructor(
    private readonly routes: JsWorkerRoutes,
    private readonly workers: JsWorkerService,
    private readonly concurrency: RouteConcurrency,
    private readonly metrics: WorkerRouteMetrics,
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'workerRoutes'>,
  ) {
    this.maxBodyBytes = config.workerRoutes.maxBodyBytes;
  }

  async answer(routeName: string, request: FastifyRequest): Promise<RouteAnswer> {
    const started = process.hrtime.bigint();
    let route = UNKNOWN_ROUTE;
    let status = 500;
    try {
      const worker = await this.find(routeName);
      route = routeName;
      const answer = await this.run(worker, request);
      status = answer.status;
      return answer;
    } catch (error) {
      if (error instanceof RouteFailure) status = error.status;
      throw error;
    } finally {
      this.metrics.record(route, status, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  private async find(routeName: string): Promise<JsWorker> {
    let worker: JsWorker | null;
    try {
      worker = await this.routes.find(routeName);
    } catch (error) {
      if (error instanceof DomainError && error.code === DomainErrorCode.DatabaseUnavailable) {
        throw new RouteFailure(503, 'the database is unavailable; try again later', RETRY_AFTER_SECONDS);
      }
      throw error;
    }
    // Only a name that could be stored is echoed: the path is anyone's to write.
    if (worker === null) throw new RouteFailure(404, isRouteName(routeName) ? `no worker serves the route '${routeName}'` : 'no worker serves this route');
    return worker;
  }

  private async run(worker: JsWorker, request: FastifyRequest): Promise<RouteAnswer> {
    const routeName = worker.routeName ?? '';
    const release = this.concurrency.tryAcquire(routeName);
    if (release === undefined) {
      throw new RouteFailure(503, `too many requests for the route '${routeName}' at once; try again later`, RETRY_AFTER_SECONDS);
    }
    try {
      const outcome = await this.start(worker, routeRequestOf(request), request.id);
      if (!outcome.ok) throw this.failureOf(worker, outcome.error, request.id);
      return answerFrom(outcome.response, this.maxBodyBytes);
    } finally {
      release();
    }
  }

  private async start(worker: JsWorker, request: RouteRequest, requestId: string): Promise<RouteRunOutcome> {
    try {
      return await this.workers.runRoute(worker, request, requestId);
    } catch (error) {
      // The run queue is full, or the server is shutting down: nothing was started.
      if (error instanceof DomainError && error.code === DomainErrorCode.NotAcceptable) {
        throw new RouteFailure(503, 'the server is too busy to run the route now; try again later', RETRY_AFTER_SECONDS);
      }
      throw error;
    }
  }

  /** The script's own error text stays in the log: the caller may be anyone. */
  private failureOf(worker: JsWorker, error: string, requestId: string): RouteFailure {
    this.logger.warn({ worker: worker.name, route: worker.routeName, error, reqId: requestId }, 'worker route failed');
    if (error.startsWith('max_run_time')) return new RouteFailure(504, 'the worker did not answer within its max_run_time');
    // The runner pool closes only when the server stops.
    if (error.startsWith('runner pool closed')) return new RouteFailure(503, 'the server is shutting down; try again later', RETRY_AFTER_SECONDS);
    if (error.includes(NOT_A_RESPONSE)) return new RouteFailure(500, "the worker's onRoute did not return a Response");
    if (error === HANDLER_MISSING) return new RouteFailure(500, 'the worker has no onRoute handler');
    return new RouteFailure(500, "the worker's onRoute failed; the server log has the error");
  }
}

/** The sandbox's message when the script exports no such handler (script-runner.ts). */
const HANDLER_MISSING = 'handler onRoute is not defined';

/**
 * The request as onRoute sees it: the absolute URL it was sent to (scheme and
 * host as a trusted proxy reports them, per TRUST_PROXY, else as received),
 * every header as sent except a client's own ng-connecting-ip, which is
 * replaced by the caller's address (again per TRUST_PROXY), and the body.
 */
export function routeRequestOf(request: FastifyRequest): RouteRequest {
  const raw = request.raw.rawHeaders;
  const headers: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (name !== CONNECTING_IP_HEADER) headers.push([name, raw[i + 1]]);
  }
  headers.push([CONNECTING_IP_HEADER, request.ip]);
  return { method: request.method, url: absoluteUrl(request), headers, body: routeBodyOf(request) };
}

/** As received (the worker's `new URL()` normalises it); a Host header that is no host gives way to `localhost`. */
function absoluteUrl(request: FastifyRequest): string {
  const url = `${request.protocol}://${request.host}${request.url}`;
  return URL.canParse(url) ? url : `http://localhost${request.url}`;
}
