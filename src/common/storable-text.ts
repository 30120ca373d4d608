import { isNestedDeeperThan, MAX_JSON_DEPTH } from './json-depth';

/**
 * Text PostgreSQL cannot store: U+0000, which neither `text` nor a `jsonb`
 * string may hold, and a UTF-16 surrogate without its pair, which JSON's
 * `\uD800` escapes can produce (`jsonb` refuses it; as `text` it would be
 * replaced by U+FFFD on the way, silently changing what was sent).
 * With the `u` flag a well-formed pair is one code point, so only lone halves match.
 */
const UNSTORABLE = /[\u0000\uD800-\uDFFF]/u;

/** What makes `text` unstorable, in words for an error message; undefined if it can be stored. */
export function unstorableCharacter(text: string): string | undefined {
  const found = UNSTORABLE.exec(text)?.[0];
  if (found === undefined) return undefined;
  if (found === '\u0000') return 'a NUL character (U+0000)';
  return `an unpaired surrogate (U+${found.charCodeAt(0).toString(16).toUpperCase()})`;
}

export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}

const EVERY_UNSTORABLE = new RegExp(UNSTORABLE.source, 'gu');

/** For text that is ours to shape (error messages, console lines): what cannot be stored becomes U+FFFD. */
export function toStorableText(text: string): string {
  return isStorableText(text) ? text : text.replace(EVERY_UNSTORABLE, '\ufffd');
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  // JSON.stringify escapes U+0000 and lone surrogates, so the path itself prints safely.
  return IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/**
 * A number JSON.parse read as ±Infinity: its text (`1e400`) was beyond a
 * double. Stored, it would become JSON null (JSON.stringify's rendering).
 */
const isUnstorableNumber = (value: number) => !Number.isFinite(value);

function hasUnstorableValue(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const current = pending.pop();
    if (typeof current === 'string') {
      if (!isStorableText(current)) return true;
    } else if (typeof current === 'number') {
      if (isUnstorableNumber(current)) return true;
    } else if (Array.isArray(current)) {
      for (const item of current) pending.push(item);
    } else if (current !== null && typeof current === 'object') {
      for (const key of Object.keys(current)) {
        if (!isStorableText(key)) return true;
        pending.push((current as Record<string, unknown>)[key]);
      }
    }
  }
  return false;
}

type Pending = { value: unknown; path: string } | { key: string; path: string };

/**
 * The first place in `value` (strings, object keys and numbers, at any depth,
 * in document order) holding text PostgreSQL cannot store or a number beyond
 * a double, as an error message naming it (`condition[2].js_worker_name:
 * contains a NUL character (U+0000), ...`), never repeating the text itself.
 * Undefined if there is none. Iterative, so no nesting depth can exhaust the
 * stack; paths are only built once something was found.
 */
export function findUnstorableValue(value: unknown, path: string): string | undefined {
  if (!hasUnstorableValue(value)) return undefined;
  const pending: Pending[] = [{ value, path }];
  while (pending.length > 0) {
    const next = pending.pop()!;
    if ('key' in next) {
      const character = unstorableCharacter(next.key);
      if (character !== undefined) return `${next.path}: the member name ${JSON.stringify(next.key)} contains ${character}, which cannot be stored`;
      continue;
    }
    const { value: current, path: at } = next;
    if (typeof current === 'string') {
      const character = unstorableCharacter(current);
      if (character !== undefined) return `${at}: contains ${character}, which cannot be stored`;
    } else if (typeof current === 'number') {
      if (isUnstorableNumber(current)) return `${at}: a number beyond the range of a double (read as ${current}), which cannot be stored`;
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) pending.push({ value: current[i], path: childPath(at, i) });
    } else if (current !== null && typeof current === 'object') {
      const keys = Object.keys(current);
      // Pushed last to first, each member's name before its value, so they come off in document order.
      for (let i = keys.length - 1; i >= 0; i--) {
        pending.push({ value: (current as Record<string, unknown>)[keys[i]], path: childPath(at, keys[i]) });
        pending.push({ key: keys[i], path: at });
      }
    }
  }
  return undefined;
}

/**
 * Why a client's JSON value cannot be taken, naming where, or undefined: nested deeper than
 * MAX_JSON_DEPTH (checked first, so no recursive walk meets it later), or holding what
 * PostgreSQL cannot store as sent (findUnstorableValue). The rule for JSON-RPC params and
 * for what a script hands over alike.
 */
export function findUnacceptableJson(value: unknown, path: string): string | undefined {
  if (isNestedDeeperThan(value, MAX_JSON_DEPTH)) {
    return `${path}: nested more than ${MAX_JSON_DEPTH} levels deep; at most ${MAX_JSON_DEPTH} levels of arrays and objects are accepted`;
  }
  return findUnstorableValue(value, path);
}
