import { createServer, type RequestListener } from 'node:http';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import type { AppConfig } from './config/app.config';
import { JsonRpcDispatcher } from './json-rpc/json-rpc.dispatcher';
import { JsonRpcHttpEntry } from './json-rpc/json-rpc.http-entry';

/** Request bodies up to this size are read; a JSON-RPC batch of 1000 small calls fits. */
const BODY_LIMIT = 4 * 1024 * 1024;
/** Longer than the usual 60 s idle timeout of proxies in front, so they close first. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * Builds the application the way both the server and the e2e tests run it:
 * Fastify and the pino logger, with JSON-RPC posts answered by the JSON-RPC
 * module's own entry on the same HTTP server, ahead of Fastify.
 */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const jsonRpc = new JsonRpcHttpEntry(BODY_LIMIT);
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT,
    // No Nest middleware is used, and @fastify/middie would still run on every request.
    skipMiddie: true,
    serverFactory: (fastifyHandler: RequestListener) => {
      const server = createServer(jsonRpc.listener(fastifyHandler));
      server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
      return server;
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    bufferLogs: true,
    // Only JSON-RPC posts carry bodies, and the JSON-RPC entry reads them itself.
    bodyParser: false,
    // Start-up failures are thrown to the caller (main prints them plainly; tests see them).
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  jsonRpc.attach(app.get(JsonRpcDispatcher));
  return app;
}
