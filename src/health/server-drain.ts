import type { Server } from 'node:http';
import { Logger } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ShutdownTimings } from '../config/app.config';
import { JsWorkerService } from '../js-worker/js-worker.service';
import { JsonRpcNodeGetGateway, JsonRpcRootGateway } from '../json-rpc/json-rpc.gateway';
import { ShutdownState } from './shutdown.state';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * HTTP requests being answered, counted on the server's own `request` event
 * (before Fastify's handler), so that the shutdown knows when the last reply is out.
 */
export class HttpRequestsInFlight {
  private active = 0;
  private closing = false;
  private readonly idleWaiters = new Set<() => void>();

  constructor(server: Server) {
    server.prependListener('request', (_request, response) => {
      this.active++;
      // Once the server has stopped accepting, a kept-alive connection carries no further request.
      if (this.closing) response.shouldKeepAlive = false;
      response.once('close', () => {
        if (--this.active === 0) for (const wake of this.idleWaiters) wake();
      });
    });
  }

  /** Replies from now on close their connections (`Connection: close`). */
  stopKeepingAlive(): void {
    this.closing = true;
  }

  /** Resolves when no request is being answered. */
  idle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        this.idleWaiters.delete(wake);
        resolve();
      };
      this.idleWaiters.add(wake);
    });
  }
}

/**
 * The shutdown sequence, before Nest's destroy hooks take the modules down:
 *
 * 1. readiness fails at once (ShutdownState), while everything goes on serving;
 * 2. after `drainMs` (for load balancers to notice), the listening socket closes,
 *    idle kept-alive connections close, and busy ones close after their reply;
 * 3. WebSocket connections answer the calls they took and close with 1001;
 * 4. calls in flight and running JS worker runs get until `timeoutMs` after step 2;
 *    connections still busy then are closed with 1001, and the destroy hooks
 *    that follow record the runs still going as interrupted.
 */
export async function drainServer(app: NestFastifyApplication, timings: ShutdownTimings, requests: HttpRequestsInFlight): Promise<void> {
  const logger = new Logger('Shutdown');
  app.get(ShutdownState).begin();
  if (timings.drainMs > 0) {
    logger.log(`not ready; serving on for ${timings.drainMs} ms before closing the port`);
    await sleep(timings.drainMs);
  }
  const deadline = Date.now() + timings.timeoutMs;
  requests.stopKeepingAlive();
  const server: Server = app.getHttpServer();
  // Fastify's own close, later, finds the server closed already and goes on.
  server.close();
  const gateways = [app.get(JsonRpcRootGateway), app.get(JsonRpcNodeGetGateway)];
  const settled = (async () => {
    await Promise.all([requests.idle(), ...gateways.map((gateway) => gateway.goAway())]);
    // After the calls: a call that started a run has handed it over by now.
    await app.get(JsWorkerService).runsSettled();
  })();
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    settled.then(() => 'settled' as const),
    new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now())))),
  ]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    logger.warn(`calls or JS worker runs still in flight after ${timings.timeoutMs} ms; closing them`);
    for (const gateway of gateways) gateway.closeAll();
  }
}

/**
 * FastifyAdapter whose `beforeClose` (the first step of Nest's app.close(), and
 * so of the shutdown on SIGTERM) runs the drain: Nest's destroy hooks, which
 * close the worker pool and the database, must only run after it.
 */
export class DrainingFastifyAdapter extends FastifyAdapter {
  private drain?: () => Promise<void>;

  drainWith(drain: () => Promise<void>): void {
    this.drain = drain;
  }

  override async beforeClose(): Promise<void> {
    // Flagged only after the drain: with return503OnClosing, Fastify would refuse every call from this flag on.
    await this.drain?.();
    super.beforeClose();
  }
}
