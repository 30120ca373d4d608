import type { ResolvedLimits } from './run-limits';

/** Name the user's module is evaluated under; stack frames are matched against it to find the line. */
export const SCRIPT_FILENAME = 'script.js';

export type LimitName = 'max_run_time' | 'max_heap_size' | 'max_stack_size';

/**
 * A run that failed for a reason attributable to the script (its errors or its limits), as
 * opposed to a host fault. The message is final and user-facing.
 */
export class SandboxFailure extends Error {
  override readonly name = 'SandboxFailure';
}

/** Shape produced by the prelude's describe(): either an Error's fields or a rendering of a non-Error throw. */
export interface GuestErrorDescription {
  name?: string;
  message?: string;
  stack?: string;
  lineNumber?: number;
  thrown?: string;
}

export function limitMessage(limit: LimitName, limits: ResolvedLimits): string {
  switch (limit) {
    case 'max_run_time':
      return `max_run_time exceeded: script ran longer than ${limits.maxRunTimeMs} ms`;
    case 'max_heap_size':
      return `max_heap_size exceeded: script needed more than ${limits.maxHeapBytes} bytes of heap`;
    case 'max_stack_size':
      return `max_stack_size exceeded: call stack deeper than ${limits.maxStackBytes} bytes`;
  }
}

export function formatGuestError(error: GuestErrorDescription, limits: ResolvedLimits): string {
  if (error.thrown !== undefined) return `Uncaught ${error.thrown}`;
  const limit = engineLimitOf(error);
  if (limit !== undefined) return limitMessage(limit, limits);
  const name = error.name || 'Error';
  return `${name}: ${error.message ?? ''}${locate(name, error)}`;
}

/** QuickJS reports its own limits as catchable InternalErrors; uncaught, they mean the script hit a limit. */
function engineLimitOf(error: GuestErrorDescription): LimitName | undefined {
  if (error.name !== 'InternalError') return undefined;
  if (error.message === 'out of memory') return 'max_heap_size';
  if (error.message === 'stack overflow') return 'max_stack_size';
  if (error.message === 'interrupted') return 'max_run_time';
  return undefined;
}

const SCRIPT_FRAME = new RegExp(`${SCRIPT_FILENAME.replace('.', '\\.')}:(\\d+)(?::(\\d+))?`);

function locate(name: string, error: GuestErrorDescription): string {
  const frame = SCRIPT_FRAME.exec(error.stack ?? '');
  const line = frame ? Number(frame[1]) : error.lineNumber;
  if (line === undefined) return '';
  const column = name === 'SyntaxError' ? frame?.[2] : undefined;
  return column === undefined ? ` at line ${line}` : ` at line ${line}, column ${column}`;
}
