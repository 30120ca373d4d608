import type { NestFastifyApplication } from '@nestjs/platform-fastify';

type CorsOptions = NonNullable<Parameters<NestFastifyApplication['enableCors']>[0]>;

/** How long a browser may reuse a preflight's answer: fewer OPTIONS round trips for a dashboard polling the service. */
const PREFLIGHT_MAX_AGE_S = 600;

/**
 * @fastify/cors settings for CORS_ORIGINS (`['*']` or origins as browsers send
 * them). Callers authenticate with a token inside the JSON-RPC params, never
 * with cookies or HTTP auth, so credentialed requests are never allowed: with
 * `*` the CORS rules forbid them anyway, and with a list there is nothing for
 * them to carry. An origin not on the list gets no Access-Control-Allow-Origin,
 * so the browser keeps the reply from its page.
 */
export function corsOptions(origins: readonly string[]): CorsOptions {
  return {
    origin: origins.length === 1 && origins[0] === '*' ? '*' : [...origins],
    credentials: false,
    methods: ['GET', 'POST'],
    // X-Request-Id: a caller's own request id, echoed back, for following a call in the logs.
    allowedHeaders: ['Content-Type', 'X-Request-Id'],
    exposedHeaders: ['X-Request-Id'],
    maxAge: PREFLIGHT_MAX_AGE_S,
  };
}
