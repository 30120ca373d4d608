import { redactParams } from '../common/params.redaction';
import { stringifyJson } from '../json-rpc/json-rpc.codec';
import { NOW_MS_SQL, type Statement } from './statement';

/*
 * The one way a change is audited, whichever table it changes: its own
 * statement appends the audit_log entry (see auditedText). It lives on the
 * database floor, beside Statement, so that every repository can wrap its
 * changes without depending on the audit module, which only reads the log.
 */

/** Who changed something: a JSON-RPC call, the operator's CLI, or the server itself (first start). */
export type AuditOrigin = 'rpc' | 'cli' | 'server';

/** Params by name, as the caller gave them. */
type NamedParams = Record<string, unknown>;

/** Who did what, for the audit entry of the change it is attached to. */
export interface AuditAction {
  origin: AuditOrigin;
  /** The caller's token key; null for the CLI and the server. */
  tokenKey: string | null;
  method: string;
  /** The params as the caller sent them, by name; redacted before they are stored. */
  params: NamedParams;
}

/** A change made by a JSON-RPC call, recorded under the caller's token key. */
export const rpcAction = (invocation: { method: string; params: NamedParams }, tokenKey: string): AuditAction => ({
  origin: 'rpc',
  tokenKey,
  method: invocation.method,
  params: invocation.params,
});

/** A change made on the server's machine by its operator (the CLI), who has no token. */
export const operatorAction = (method: string, params: NamedParams = {}): AuditAction => ({ origin: 'cli', tokenKey: null, method, params });

/** A change the server makes on its own (at start), for no caller. */
export const serverAction = (method: string): AuditAction => ({ origin: 'server', tokenKey: null, method, params: {} });

/** What an audited statement answers: the changed rows as its own RETURNING gave them, or only their count. */
export type AuditedAnswer = 'rows' | 'count';

const AUDIT_VALUES = 4;

/**
 * Wraps a data-modifying statement (it must end in RETURNING) so that the
 * same statement appends one audit entry when, and only when, it changed
 * rows: change and entry commit or fail together, and a change of nothing
 * leaves no trace. PostgreSQL runs a data-modifying WITH part exactly once,
 * whether or not the outer query reads it. Text, not a query builder: TypeORM
 * cannot put a data-modifying statement in a WITH part.
 *
 * `placeholders` is how many of $1… the wrapped text uses; the audit values
 * follow them.
 */
export function auditedText(text: string, placeholders: number, answer: AuditedAnswer): string {
  const [key, origin, method, params] = Array.from({ length: AUDIT_VALUES }, (_, i) => `$${placeholders + i + 1}`);
  const outer = answer === 'count' ? 'SELECT count(*)::bigint AS affected FROM changed' : 'SELECT * FROM changed';
  return `WITH changed AS (${text}),
audited AS (
  INSERT INTO audit_log (at, token_key, origin, method, params, affected)
  SELECT ${NOW_MS_SQL}, ${key}::varchar, ${origin}::varchar, ${method}::varchar, ${params}::jsonb, count(*) FROM changed HAVING count(*) > 0
)
${outer}`;
}

/** The audit values, in the order auditedText numbers them; the params redacted (params.redaction.ts). */
export function auditValues(action: AuditAction): unknown[] {
  return [action.tokenKey, action.origin, action.method, stringifyJson(redactParams(action.params))];
}

/** A statement with its audit entry attached (see auditedText). */
export function audited(statement: Statement, action: AuditAction, answer: AuditedAnswer = 'rows'): Statement {
  return {
    text: auditedText(statement.text, statement.values.length, answer),
    values: [...statement.values, ...auditValues(action)],
  };
}
