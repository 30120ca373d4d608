import { MAX_JSON_DEPTH } from '../../common/json-depth';

/** Deepest nesting of arrays and objects a run's result may have: as much as a param may (why: MAX_JSON_DEPTH). */
export const MAX_RESULT_DEPTH = MAX_JSON_DEPTH;

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

/** The run's error for a result nested deeper than MAX_RESULT_DEPTH, or undefined when it may be stored. */
export function resultDepthError(json: string): string | undefined {
  const depth = jsonDepth(json);
  if (depth <= MAX_RESULT_DEPTH) return undefined;
  return `result is nested ${depth} levels deep; at most ${MAX_RESULT_DEPTH} levels of arrays and objects can be stored`;
}
