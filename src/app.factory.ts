import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { WsAdapter } from '@nestjs/platform-ws';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import type { AppConfig } from './config/app.config';
import { DrainingFastifyAdapter, drainServer, HttpRequestsInFlight } from './health/server-drain';
import { corsOptions } from './cors/cors.options';
import { parseJsonRpcFrame } from './json-rpc/json-rpc.gateway';
import { BODY_LIMIT, PayloadTooLargeFilter, readBodiesAsText } from './json-rpc/json-rpc.http.controller';
import { echoRequestIds, requestIdOf } from './json-rpc/request-id';
import { trustFunction } from './config/trust-proxy';
import { MAX_ROUTE_NAME_LENGTH } from './js-worker/js-worker.route-name';
import { readWorkerRouteBodies } from './worker-route/worker-route.body';

/** Longer than the usual 60 s idle timeout of proxies in front, so they close first. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/**
 * How often Node looks for connections past their header or request timeout.
 * Its default, 30 s, would let a slow client hold a connection up to that much
 * longer than the timeout says; a pass over the open connections each second is cheap.
 */
const CONNECTIONS_CHECK_INTERVAL_MS = 1_000;

/**
 * Builds the application the way both the server and the e2e tests run it:
 * Nest on Fastify with the pino logger; JSON-RPC over HTTP and WebSocket.
 */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const adapter = new DrainingFastifyAdapter({
    bodyLimit: BODY_LIMIT,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // Slow clients (headers or body trickled in) are cut off; see HttpLimits.
    requestTimeout: config.http.requestTimeoutMs,
    maxRequestsPerSocket: config.http.maxRequestsPerSocket,
    http: {
      // Node refuses a headers timeout longer than the request timeout.
      headersTimeout: Math.min(config.http.headersTimeoutMs, config.http.requestTimeoutMs),
      connectionsCheckingInterval: CONNECTIONS_CHECK_INTERVAL_MS,
    },
    // No Nest middleware is used, and @fastify/middie would still run on every request.
    skipMiddie: true,
    // Each request's id (request.id): a sane x-request-id, or a new one; echoed and logged.
    genReqId: requestIdOf,
    // request.ip is the client a trusted proxy names, else the socket's peer (TRUST_PROXY).
    trustProxy: trustFunction(config.trustProxy),
    // A worker route's name is a path parameter, and may be as long as NodeGet allows (find-my-way's default is 100).
    routerOptions: { maxParamLength: MAX_ROUTE_NAME_LENGTH },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    bufferLogs: true,
    // JSON-RPC reads its bodies as text itself (readBodiesAsText).
    bodyParser: false,
    // Start-up failures are thrown to the caller (main prints them plainly; tests see them).
    abortOnError: false,
  });
  app.useWebSocketAdapter(new WsAdapter(app, { messageParser: parseJsonRpcFrame }));
  readBodiesAsText(app.getHttpAdapter().getInstance(), BODY_LIMIT);
  // Before app.init(), which registers the routes: worker routes read their bodies as bytes.
  readWorkerRouteBodies(app.getHttpAdapter().getInstance(), config.workerRoutes.maxBodyBytes);
  echoRequestIds(app.getHttpAdapter().getInstance());
  app.useGlobalFilters(new PayloadTooLargeFilter(BODY_LIMIT, app.getHttpAdapter()));
  app.useLogger(app.get(Logger));
  // SIGTERM (or SIGINT) runs app.close(), then exits 0: a deliberate stop is no failure to the supervisor.
  app.enableShutdownHooks([], { useProcessExit: true });
  const requests = new HttpRequestsInFlight(app.getHttpServer());
  adapter.drainWith(() => drainServer(app, config.shutdown, requests));
  if (config.corsOrigins.length > 0) app.enableCors(corsOptions(config.corsOrigins));
  await app.init();
  // Past it the server closes new connections as it accepts them, so the ones it has keep their share.
  app.getHttpServer().maxConnections = config.http.maxConnections;
  await app.getHttpAdapter().getInstance().ready();
  return app;
}
