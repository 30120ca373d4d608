import { createHash } from 'node:crypto';
import { parseCredentials } from './credentials';

/*
 * What a stored copy of a call's params may hold: the audit log's rule, here
 * rather than in audit/ because every audited change applies it as its entry
 * is written (database/audited-change.ts), and the token module, which audited
 * changes come from too, must not depend on the audit module.
 */

/** Params by name, as a JSON-RPC call or an operator's command gives them. */
type NamedParams = Record<string, unknown>;

export const REDACTED = '***';

/** Params holding the caller's own credential: the entry records the token's key instead. */
const CREDENTIAL_PARAMS = new Set(['token', 'father_token', 'supertoken']);
/** Params that are secrets wherever they appear, nested ones included (`token_creation.password`). */
const SECRET_PARAMS = new Set(['password', 'new_password', 'secret']);

/**
 * A target may be a full `key:secret` or `username|password`, split as at
 * login (passwords may hold `:`, so `ann|pa:ss` is ann's password); only the
 * key or username is kept.
 */
function redactTarget(value: unknown): unknown {
  if (typeof value !== 'string' || (!value.includes(':') && !value.includes('|'))) return value;
  const credential = parseCredentials(value);
  return credential.mode === 'token' ? `${credential.key}:${REDACTED}` : `${credential.username}|${REDACTED}`;
}

/** A worker's env is where its API keys live: the names are kept, never the values. */
function redactEnv(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.keys(value).map((name) => [name, REDACTED]));
}

/** Scripts can be megabytes: the entry identifies the exact script by digest instead of repeating it. */
function digestScript(value: unknown): unknown {
  return typeof value === 'string' ? `sha256:${createHash('sha256').update(value).digest('hex')}` : value;
}

function redactValue(name: string, value: unknown): unknown {
  if (CREDENTIAL_PARAMS.has(name) || SECRET_PARAMS.has(name)) return value === undefined ? undefined : REDACTED;
  if (name === 'target_token') return redactTarget(value);
  if (name === 'env') return redactEnv(value);
  if (name === 'js_script_base64') return digestScript(value);
  return redactNested(value);
}

function redactNested(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactNested);
  if (value === null || typeof value !== 'object') return value;
  return redactParams(value as NamedParams);
}

/**
 * The params of a call as the audit log keeps them: every secret and password
 * replaced by "***", whatever the method.
 */
export function redactParams(params: NamedParams): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) kept[name] = redactValue(name, value);
  }
  return kept;
}
