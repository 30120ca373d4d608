import { DomainError, DomainErrorCode } from '../common/domain.error';
import { findUnacceptableJson } from '../common/storable-text';
import { DEFAULT_LIMITS, LIMIT_BOUNDS, type RunLimits } from './runtime';
import type { LimitParam, LimitParams } from './js-worker.params';

/**
 * What a well-formed value may be: the rules behind the 108 errors of the
 * `js-worker_*` methods. Pure functions, so they can be tested on their own.
 */

export const MAX_NAME_LENGTH = 255;
/** Decoded script size accepted by create/update; a worker's source is code, not a data store. */
export const MAX_SCRIPT_BYTES = 1024 * 1024;

export function notAcceptable(message: string): DomainError {
  return new DomainError(DomainErrorCode.NotAcceptable, message);
}

const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** 1–255 characters, no `*` (it would read as a pattern in token scopes), no control characters. */
export function checkWorkerName(name: string): void {
  const length = [...name].length;
  if (length === 0 || length > MAX_NAME_LENGTH) {
    throw notAcceptable(`name: must be 1 to ${MAX_NAME_LENGTH} characters, got ${length}`);
  }
  if (name.includes('*')) throw notAcceptable(`name: must not contain '*' (it is the wildcard of token scopes)`);
  if (CONTROL_CHARACTER.test(name)) throw notAcceptable('name: must not contain control characters');
}

/** The standard alphabet with optional `=` padding; no whitespace, no URL-safe `-`/`_`. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Strict base64 of UTF-8 text → the script source. */
export function decodeScript(base64: string): string {
  const unpadded = base64.replace(/=+$/, '');
  if (!BASE64.test(base64) || unpadded.length % 4 === 1 || (base64.includes('=') && base64.length % 4 !== 0)) {
    throw notAcceptable('js_script_base64: not valid base64 (standard alphabet A-Z a-z 0-9 + /, optional = padding, no whitespace)');
  }
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length > MAX_SCRIPT_BYTES) {
    throw notAcceptable(`js_script_base64: the script is ${bytes.length} bytes; at most ${MAX_SCRIPT_BYTES} are accepted`);
  }
  let source: string;
  try {
    source = utf8.decode(bytes);
  } catch {
    throw notAcceptable('js_script_base64: the decoded script is not valid UTF-8 text');
  }
  if (source.includes('\u0000')) throw notAcceptable('js_script_base64: the script must not contain the NUL character');
  return source;
}

export function encodeScript(source: string): string {
  return Buffer.from(source, 'utf8').toString('base64');
}

const LIMIT_KEYS = {
  maxRunTime: { param: 'max_run_time', bounds: LIMIT_BOUNDS.maxRunTimeMs, unit: 'ms', fallback: DEFAULT_LIMITS.maxRunTimeMs },
  maxStackSize: { param: 'max_stack_size', bounds: LIMIT_BOUNDS.maxStackBytes, unit: 'bytes', fallback: DEFAULT_LIMITS.maxStackBytes },
  maxHeapSize: { param: 'max_heap_size', bounds: LIMIT_BOUNDS.maxHeapBytes, unit: 'bytes', fallback: DEFAULT_LIMITS.maxHeapBytes },
} as const;

export type LimitKey = keyof typeof LIMIT_KEYS;

/** A limit within LIMIT_BOUNDS; `null` stays null (the default), `undefined` stays undefined (unchanged). */
export function checkLimit(key: LimitKey, value: LimitParam): number | null | undefined {
  if (value === undefined || value === null) return value;
  const { param, bounds, unit } = LIMIT_KEYS[key];
  if (value < bounds.min || value > bounds.max) {
    throw notAcceptable(`${param}: must be between ${bounds.min} and ${bounds.max} ${unit}, got ${value}`);
  }
  return Number(value);
}

export type CheckedLimits = Record<LimitKey, number | null | undefined>;

export function checkLimits(limits: LimitParams): CheckedLimits {
  return {
    maxRunTime: checkLimit('maxRunTime', limits.maxRunTime),
    maxStackSize: checkLimit('maxStackSize', limits.maxStackSize),
    maxHeapSize: checkLimit('maxHeapSize', limits.maxHeapSize),
  };
}

/** The limit a run gets: the worker's own, or the default. */
export function effectiveLimit(key: LimitKey, stored: number | null): number {
  return stored ?? LIMIT_KEYS[key].fallback;
}

export function runLimits(stored: Record<LimitKey, number | null>): Required<RunLimits> {
  return {
    maxRunTimeMs: effectiveLimit('maxRunTime', stored.maxRunTime),
    maxStackBytes: effectiveLimit('maxStackSize', stored.maxStackSize),
    maxHeapBytes: effectiveLimit('maxHeapSize', stored.maxHeapSize),
  };
}

/**
 * Refuses (108) what the params guard refuses with -32602 (findUnacceptableJson), naming where.
 * JSON-RPC params are refused at the edge already; what a script hands over (an inline call's
 * params) is not.
 */
export function checkStorable(what: string, value: unknown): void {
  const refusal = findUnacceptableJson(value, what);
  if (refusal !== undefined) throw notAcceptable(refusal);
}
