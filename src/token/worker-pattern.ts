/**
 * A worker-name pattern: the name itself, or a prefix when it ends in `*`.
 * No other character is special: `%`, `_`, `?` and a `*` elsewhere are literal.
 */
export type WorkerPattern = { kind: 'exact'; name: string } | { kind: 'prefix'; prefix: string };

export const ANY_WORKER: WorkerPattern = { kind: 'prefix', prefix: '' };

export function parseWorkerPattern(pattern: string): WorkerPattern {
  return pattern.endsWith('*') ? { kind: 'prefix', prefix: pattern.slice(0, -1) } : { kind: 'exact', name: pattern };
}

export function patternMatches(pattern: WorkerPattern, worker: string): boolean {
  return pattern.kind === 'exact' ? pattern.name === worker : worker.startsWith(pattern.prefix);
}

/** The names both patterns match, itself a pattern (or nothing). */
export function intersectPatterns(a: WorkerPattern, b: WorkerPattern): WorkerPattern | undefined {
  if (a.kind === 'exact') return patternMatches(b, a.name) ? a : undefined;
  if (b.kind === 'exact') return patternMatches(a, b.name) ? b : undefined;
  if (a.prefix.startsWith(b.prefix)) return a;
  if (b.prefix.startsWith(a.prefix)) return b;
  return undefined;
}
