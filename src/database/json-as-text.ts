import { types as pgTypes } from 'pg';
import { JSON_OID, JSONB_OID } from './pglite.protocol';

/**
 * Leads the text of a statement whose `json` and `jsonb` columns are to reach
 * the caller as their JSON text, unparsed: the reply copies them as they are
 * (see recordsJsonText). Asking for it on the client, not with `::text` in the
 * SQL, leaves the database its plain jsonb output: the cast costs it an extra
 * conversion and copy per value (measured in bench/README.md).
 * The mark travels in the text because TypeORM's `query(text, values)` passes
 * nothing else to the driver's client; it is a comment to the database.
 */
export const JSON_AS_TEXT = '/* json-as-text */ ';

export function readsJsonAsText(text: string): boolean {
  return text.startsWith(JSON_AS_TEXT);
}

const asText = (value: string): string => value;

/** pg's per-query `types`: JSON as text, every other type as pg parses it by default. */
export const PG_JSON_AS_TEXT_TYPES = {
  getTypeParser: (oid: number, format?: 'text' | 'binary'): ((value: string) => unknown) =>
    oid === JSON_OID || oid === JSONB_OID ? asText : (pgTypes.getTypeParser(oid, format ?? 'text') as (value: string) => unknown),
};

// PGlite's per-query `parsers` to the same effect are PGLITE_JSON_AS_TEXT_PARSERS, beside the
// embedded database's thread, which does not load `pg`.
