import { jsonDepth, MAX_JSON_DEPTH } from '../../common/json-depth';

/** Deepest nesting of arrays and objects a run's result may have: as much as a param may (why: MAX_JSON_DEPTH). */
export const MAX_RESULT_DEPTH = MAX_JSON_DEPTH;

/** The run's error for a result nested deeper than MAX_RESULT_DEPTH, or undefined when it may be stored. */
export function resultDepthError(json: string): string | undefined {
  const depth = jsonDepth(json);
  if (depth <= MAX_RESULT_DEPTH) return undefined;
  return `result is nested ${depth} levels deep; at most ${MAX_RESULT_DEPTH} levels of arrays and objects can be stored`;
}
