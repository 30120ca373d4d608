import { DomainError, DomainErrorCode } from '../common/domain.error';
import { accessibleWorkers, canAccessWorker, type Auth, type WorkerAccess } from '../token/auth';
import type { JsResultAction } from '../token/token-limit';
import type { Selection } from './conditions/condition.types';

const ACTION_NAMES: Record<JsResultAction, string> = { read: 'Read', delete: 'Delete' };

/**
 * Which workers a call may touch. Named workers are each checked, and one
 * refusal fails the whole call (102). With no worker named the call is
 * narrowed to what the token may reach instead.
 */
export function authoriseWorkers(selection: Selection, auth: Auth, action: JsResultAction): WorkerAccess {
  if (selection.namedWorkers.length === 0) return accessibleWorkers(auth, action);
  for (const worker of selection.namedWorkers) {
    if (!canAccessWorker(auth, action, worker)) {
      throw new DomainError(
        DomainErrorCode.PermissionDenied,
        `Permission denied for js_result on worker '${worker}', action: ${ACTION_NAMES[action]}`,
      );
    }
  }
  // The conditions themselves pin the worker names, and each was allowed.
  return { kind: 'all' };
}

/** A restricted access that reaches no worker: the call touches nothing, without asking the database. */
export function grantsNothing(access: WorkerAccess): boolean {
  return access.kind === 'patterns' && access.names.length === 0 && access.prefixes.length === 0;
}
