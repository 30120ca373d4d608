import autocannon from 'autocannon';

/** One measured run against one target: the numbers every table in the report is made of. */
export interface LoadResult {
  /** Completed requests (HTTP requests for autocannon, script runs for pgbench). */
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Connection errors, timeouts, non-2xx replies and JSON-RPC error replies (or failed transactions). */
  errors: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** What one measured slice produced, before it is pooled with the other slices of the same target. */
export interface RawRun {
  latenciesMs: number[];
  seconds: number;
  errors: number;
}

export function summarise(latenciesMs: number[], seconds: number, errors: number): LoadResult {
  const sorted = Float64Array.from(latenciesMs).sort();
  return {
    requests: latenciesMs.length,
    seconds,
    rps: latenciesMs.length / seconds,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    errors,
  };
}

export interface HttpLoad {
  url: string;
  body: string;
  connections: number;
  durationSec: number;
  verify: (body: string) => boolean;
}

/**
 * Runs autocannon and keeps every latency itself: autocannon's own histogram
 * rounds to whole milliseconds, too coarse for sub-millisecond medians.
 */
export function runHttpLoad(load: HttpLoad): Promise<RawRun> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const started = process.hrtime.bigint();
    const instance = autocannon(
      {
        url: load.url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: load.body,
        connections: load.connections,
        duration: load.durationSec,
        timeout: 30,
        verifyBody: load.verify,
      },
      (err, result) => {
        if (err) return reject(err);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        resolve({ latenciesMs: latencies, seconds, errors: result.errors + result.non2xx + result.mismatches });
      },
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTimeMs: number) => {
      latencies.push(responseTimeMs);
    });
  });
}
