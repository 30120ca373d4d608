import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import type { AppConfig } from './config/app.config';

/** Request bodies up to this size are read; a JSON-RPC batch of 1000 small calls fits. */
const BODY_LIMIT = 4 * 1024 * 1024;

/**
 * Builds the application the way both the server and the e2e tests run it:
 * Fastify, the pino logger, and bodies kept as text so the JSON-RPC layer can
 * answer malformed JSON itself.
 */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT, keepAliveTimeout: 65_000 });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    bufferLogs: true,
    // The JSON-RPC layer reads bodies itself (see below), so Nest must not install its JSON parser.
    bodyParser: false,
    // Start-up failures are thrown to the caller (main prints them plainly; tests see them).
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  const fastify = app.getHttpAdapter().getInstance();
  fastify.removeAllContentTypeParsers();
  // Clients often post JSON without the right Content-Type (curl -d); every body is read as text.
  fastify.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.enableShutdownHooks();
  await app.init();
  await fastify.ready();
  return app;
}
