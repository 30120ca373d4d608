/**
 * Moved to database/audited-change.ts, where every repository wraps its
 * changes; kept only for the js-result files that still import it here.
 * Import from database/audited-change instead.
 */
export {
  type AuditAction,
  type AuditedAnswer,
  audited,
  auditedText,
  auditValues,
  operatorAction,
  rpcAction,
} from '../database/audited-change';
