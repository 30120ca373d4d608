import { DomainError, DomainErrorCode } from '../common/domain.error';

export type Credentials =
  | { mode: 'token'; key: string; secret: string }
  | { mode: 'account'; username: string; password: string };

/**
 * Splits the `token` param at the first separator. `:` wins over `|` when both
 * appear, as in NodeGet, so `a|b:c` is key `a|b` with secret `c`.
 */
export function parseCredentials(token: string): Credentials {
  const colon = token.indexOf(':');
  if (colon >= 0) return { mode: 'token', key: token.slice(0, colon), secret: token.slice(colon + 1) };
  const bar = token.indexOf('|');
  if (bar >= 0) return { mode: 'account', username: token.slice(0, bar), password: token.slice(bar + 1) };
  throw new DomainError(
    DomainErrorCode.MalformedToken,
    "Failed to parse token: Invalid token format: must be 'key:secret' or 'username|password'",
  );
}
