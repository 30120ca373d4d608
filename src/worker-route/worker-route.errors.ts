import { STATUS_CODES } from 'node:http';

/** The short JSON body of a route request the server answers itself, in the shape Fastify and Nest answer errors. */
export interface RouteErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

export function routeError(statusCode: number, message: string): RouteErrorBody {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

/**
 * Why the server, not the worker, answered a route request. The message is
 * what the caller reads: routes are unauthenticated, so it never carries the
 * script's own error text (which could hold its env's secrets) or a stack;
 * that goes to the log.
 */
export class RouteFailure extends Error {
  override readonly name = 'RouteFailure';

  constructor(
    readonly status: number,
    message: string,
    /** Seconds, for 503s. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }

  get body(): RouteErrorBody {
    return routeError(this.status, this.message);
  }
}
