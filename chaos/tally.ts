import { percentile } from '../bench/load';
import type { Outcome, Reply } from './rpc-client';

export interface Tally {
  sent: number;
  answered: number;
  timedOut: number;
  ok: number;
  errorsByCode: Record<string, number>;
}

const isAnswer = (o: Outcome) => o === 'ok' || typeof o === 'number';

export function tally(replies: Reply[]): Tally {
  const t: Tally = { sent: 0, answered: 0, timedOut: 0, ok: 0, errorsByCode: {} };
  for (const reply of replies) {
    for (const outcome of reply.outcomes) {
      t.sent++;
      if (isAnswer(outcome)) t.answered++;
      if (outcome === 'ok') t.ok++;
      else if (outcome === 'timeout') t.timedOut++;
      else t.errorsByCode[String(outcome)] = (t.errorsByCode[String(outcome)] ?? 0) + 1;
    }
  }
  return t;
}

export function mergeTallies(...parts: Tally[]): Tally {
  const all: Tally = { sent: 0, answered: 0, timedOut: 0, ok: 0, errorsByCode: {} };
  for (const p of parts) {
    all.sent += p.sent;
    all.answered += p.answered;
    all.timedOut += p.timedOut;
    all.ok += p.ok;
    for (const [code, n] of Object.entries(p.errorsByCode)) all.errorsByCode[code] = (all.errorsByCode[code] ?? 0) + n;
  }
  return all;
}

/** Error codes other than the allowed ones, with their counts. */
export function unexpectedCodes(t: Tally, allowed: string[]): Record<string, number> {
  return Object.fromEntries(Object.entries(t.errorsByCode).filter(([code]) => !allowed.includes(code)));
}

export interface Latency {
  count: number;
  p50Ms: number;
  p99Ms: number;
}

/** Latencies of the successful single calls among `replies`. */
export function latency(replies: Reply[]): Latency {
  const ms = Float64Array.from(replies.filter((r) => r.outcomes.every((o) => o === 'ok')).map((r) => r.doneAt - r.sentAt)).sort();
  return { count: ms.length, p50Ms: round(percentile(ms, 50)), p99Ms: round(percentile(ms, 99)) };
}

export const round = (n: number, digits = 2) => Number(n.toFixed(digits));

const okIn = (replies: Reply[], from: number, to: number) =>
  replies.filter((r) => r.doneAt >= from && r.doneAt < to && r.outcomes[0] === 'ok').length;

/** Successes per second between two instants of the load's clock. */
export function successRate(replies: Reply[], from: number, to: number): number {
  return okIn(replies, from, to) / ((to - from) / 1000);
}

/** Milliseconds from `since` to the first success completed after it; undefined if none. */
export function firstSuccessAfter(replies: Reply[], since: number): number | undefined {
  const first = replies.filter((r) => r.doneAt >= since && r.outcomes[0] === 'ok').reduce((m, r) => Math.min(m, r.doneAt), Infinity);
  return Number.isFinite(first) ? first - since : undefined;
}

/**
 * Milliseconds from `since` to the start of the first one-second window that
 * has at least `share` of the `baselinePerSec` successes; windows slide by 100 ms.
 */
export function fullThroughputAfter(replies: Reply[], since: number, baselinePerSec: number, share = 0.8): number | undefined {
  const last = replies.reduce((m, r) => Math.max(m, r.doneAt), 0);
  for (let start = since; start + 1000 <= last; start += 100) {
    if (okIn(replies, start, start + 1000) >= share * baselinePerSec) return start - since;
  }
  return undefined;
}
