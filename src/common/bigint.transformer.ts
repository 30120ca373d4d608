import type { ValueTransformer } from 'typeorm';

/**
 * PostgreSQL's driver returns bigint as a string to avoid losing precision; every
 * bigint this service stores (ids, millisecond timestamps) fits in a double's
 * safe-integer range, so entities work with numbers.
 */
export const bigintAsNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | bigint | null) => (value === null || value === undefined ? value : Number(value)),
};
