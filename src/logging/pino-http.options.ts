import type { Options } from 'pino-http';
import type { DestinationStream } from 'pino';
import type { AppConfig } from '../config/app.config';
import { redactStatementValues } from '../database/database.errors';
import { requestIdOf } from '../json-rpc/request-id';

/** pino-pretty, when installed (a dev dependency: absent from a production install) and stdout is a terminal. */
function prettyTransport(): Options['transport'] | undefined {
  if (!process.stdout.isTTY) return undefined;
  try {
    require.resolve('pino-pretty');
  } catch {
    return undefined;
  }
  return { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } };
}

/**
 * nestjs-pino's `pinoHttp` params: JSON lines on stdout (or `logs.destination`,
 * in tests), readable lines on a terminal.
 */
export function pinoHttpParams(config: Pick<AppConfig, 'logLevel' | 'logs'>): Options | [Options, DestinationStream] {
  const options: Options = {
    level: config.logLevel,
    // One log line per request would cost more than the request on the hot path.
    autoLogging: false,
    redact: ['req.headers.authorization', 'req.body'],
    // After pino's own error serializer: a failed statement's values may be secrets' hashes.
    serializers: { err: redactStatementValues },
    // The same ids as Fastify's (app.factory.ts), for any route pino-http would ever serve.
    genReqId: (request) => requestIdOf(request),
    quietReqLogger: true,
  };
  const destination = config.logs?.destination;
  if (destination) return [options, destination as DestinationStream];
  const transport = prettyTransport();
  return transport ? { ...options, transport } : options;
}
