import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Whether an `Authorization` header carries `Bearer <token>`. Compared as
 * digests, in constant time whatever the lengths, so the answer's timing
 * says nothing about how much of a guess was right.
 */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  const given = /^Bearer +(\S+) *$/i.exec(authorization ?? '')?.[1] ?? '';
  return timingSafeEqual(digest(given), digest(token));
}

/** What /metrics answers a request without the right bearer token. */
export const UNAUTHORIZED_BODY = { statusCode: 401, error: 'Unauthorized', message: 'METRICS_TOKEN is required as a bearer token' };
