import type { DataSource } from 'typeorm';

/**
 * The rows a statement returns, whatever its command. (DataSource.query hands
 * back `[rows, count]` for UPDATE and DELETE, so RETURNING needs the structured form.)
 */
export async function queryRows<T = Record<string, unknown>>(dataSource: DataSource, text: string, values: unknown[]): Promise<T[]> {
  const runner = dataSource.createQueryRunner();
  try {
    const result = await runner.query(text, values, true);
    return (result.records ?? []) as T[];
  } finally {
    await runner.release();
  }
}
