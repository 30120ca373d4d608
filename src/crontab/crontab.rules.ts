import { DomainError, DomainErrorCode } from '../common/domain.error';

const MAX_NAME_CHARS = 128;

export const notAcceptable = (message: string) => new DomainError(DomainErrorCode.NotAcceptable, message);

/** Unicode's control characters (Cc), which NodeGet's `char::is_control` refuses. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;

/** NodeGet's rules for a job name, with its wording (108). */
export function checkCrontabName(name: string): void {
  if (name.length === 0) throw notAcceptable('name cannot be empty');
  if ([...name].length > MAX_NAME_CHARS) throw notAcceptable(`name too long (max ${MAX_NAME_CHARS} chars)`);
  if (name.includes('/') || name.includes('\\') || CONTROL.test(name)) {
    throw notAcceptable('name contains invalid characters (path separators and control characters not allowed)');
  }
}

export const AGENT_REFUSED = 'agent crontabs need NodeGet agents; this service runs server.js_worker jobs';

/** NodeGet trims the worker name to see whether one is given. */
export function checkWorkerName(workerName: string): void {
  if (workerName.trim().length === 0) throw notAcceptable('Invalid crontab payload: js worker name cannot be empty');
}

export const crontabNotFound = (name: string) => new DomainError(DomainErrorCode.NotFoundInDatabase, `Crontab not found: ${name}`);
