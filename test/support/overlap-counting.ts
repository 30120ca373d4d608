import type { DataSource } from 'typeorm';

/**
 * `dataSource` seen through a `query` that holds each statement `holdMs` before running it, and counts how
 * many were running at once: what a test of a concurrency bound reads (`most`).
 */
export function overlapCounting(dataSource: DataSource, holdMs = 30): { dataSource: DataSource; most(): number } {
  let running = 0;
  let most = 0;
  const counted = Object.create(dataSource, {
    query: {
      value: async (...args: Parameters<DataSource['query']>) => {
        most = Math.max(most, ++running);
        try {
          await new Promise((resolve) => setTimeout(resolve, holdMs));
          return await dataSource.query(...args);
        } finally {
          running--;
        }
      },
    },
  }) as DataSource;
  return { dataSource: counted, most: () => most };
}
