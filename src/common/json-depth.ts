/**
 * Deepest nesting of arrays and objects the service accepts in a param and
 * stores in a result. PostgreSQL's jsonb takes about 10,000 levels, but every
 * reader of the value must handle it too: V8's JSON.stringify and structured
 * clone recurse on the native stack (about 2,200 levels on a main thread), and
 * so do the serialisers of clients. 1,000 leaves every one of them a wide margin.
 */
export const MAX_JSON_DEPTH = 1000;

/**
 * Whether a parsed JSON value nests arrays and objects more than `max` levels
 * (a scalar is 0), without recursion: the value itself may be too deep for any
 * recursive walk. Stops at the first level past `max`.
 */
export function isNestedDeeperThan(value: unknown, max: number): boolean {
  const pending: unknown[] = [value];
  const depths: number[] = [0];
  while (pending.length > 0) {
    const current = pending.pop();
    const depth = depths.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth + 1 > max) return true;
    const children = Array.isArray(current) ? current : Object.values(current);
    for (const child of children) {
      if (child !== null && typeof child === 'object') {
        pending.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Deepest nesting of arrays and objects in valid JSON text (0 for a scalar), by one scan
 * without recursion: the value itself may be too deep for any recursive walk.
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) {
      inString = true;
    } else if (code === OPEN_ARRAY || code === OPEN_OBJECT) {
      if (++depth > deepest) deepest = depth;
    } else if (code === CLOSE_ARRAY || code === CLOSE_OBJECT) {
      depth--;
    }
  }
  return deepest;
}
