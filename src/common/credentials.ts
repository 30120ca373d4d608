import { DomainError, DomainErrorCode } from './domain.error';

/*
 * How a `token` param reads, as the wire gives it: pure text rules, shared by
 * the token module (logins, targets) and the audit log's redaction, which
 * keeps only a credential's key or username part.
 */

export type Credentials =
  | { mode: 'token'; key: string; secret: string }
  | { mode: 'account'; username: string; password: string };

/** A token key as this service issues them (and NodeGet does): 16 letters and digits. */
const TOKEN_KEY = /^[A-Za-z0-9]{16}$/;

export const isTokenKey = (text: string) => TOKEN_KEY.test(text);

/**
 * Reads the `token` param as JSRESULT §4 says. NodeGet's rule: split at the
 * first `:` if there is one (token mode), else at the first `|` (account
 * mode). One exception, so that accounts whose username or password contains
 * `:` can log in: when the part before the first `:` is not a token key and
 * the text contains `|`, it is an account, split at the first `|`
 * (`[agent]:<uuid>|password`; `a|b:c` is account `a` here, key `a|b` on NodeGet).
 */
export function parseCredentials(token: string): Credentials {
  const colon = token.indexOf(':');
  const bar = token.indexOf('|');
  if (colon >= 0 && (bar < 0 || isTokenKey(token.slice(0, colon)))) {
    return { mode: 'token', key: token.slice(0, colon), secret: token.slice(colon + 1) };
  }
  if (bar >= 0) return { mode: 'account', username: token.slice(0, bar), password: token.slice(bar + 1) };
  throw new DomainError(
    DomainErrorCode.MalformedToken,
    "Failed to parse token: Invalid token format: must be 'key:secret' or 'username|password'",
  );
}

/** The key or username a credential names (for targets and messages): never its secret part. */
export function credentialName(credential: Credentials): string {
  return credential.mode === 'token' ? credential.key : credential.username;
}
