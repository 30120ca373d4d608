/**
 * Why a call failed, in domain terms. Only the JSON-RPC error mapper turns these
 * into wire codes, so services never depend on the transport.
 */
export enum DomainErrorCode {
  /** The call's parameters do not have the documented form. */
  InvalidParams = 'INVALID_PARAMS',
  /** The credential string is neither `key:secret` nor `username|password`. */
  MalformedToken = 'MALFORMED_TOKEN',
  /** Unknown key or username, wrong secret or password. */
  InvalidCredentials = 'INVALID_CREDENTIALS',
  /** Valid credentials that do not grant what the call needs. */
  PermissionDenied = 'PERMISSION_DENIED',
  /** The database could not be reached or did not answer in time. */
  DatabaseUnavailable = 'DATABASE_UNAVAILABLE',
  /** Well-formed input that the service will not accept. */
  NotAcceptable = 'NOT_ACCEPTABLE',
  /** The call names something (a token) that does not exist. */
  NotFound = 'NOT_FOUND',
  /** A NodeGet method's "not found" (105), worded as NodeGet words it (`Not found in database: js_worker not found: x`), which its dashboard matches on. */
  NotFoundInDatabase = 'NOT_FOUND_IN_DATABASE',
  /** A password check refused to bound what logins cost (throttled, too many at once): retry later, as the message says. */
  TooManyLogins = 'TOO_MANY_LOGINS',
  /** The answer would be larger than a reply may be (MAX_CALL_RESPONSE_BYTES, MAX_RESPONSE_BYTES): the caller must ask for less. */
  ResponseTooLarge = 'RESPONSE_TOO_LARGE',
  /** A crontab's expression the schedule library refuses (NodeGet's 101 `Parse error: Invalid cron expression: ...`). */
  InvalidCronExpression = 'INVALID_CRON_EXPRESSION',
}

/**
 * What a program can act on, sent as the JSON-RPC error's `data` beside the
 * unchanged code and message (documented per code in the OpenRPC document's `x-error-data`).
 */
export type DomainErrorData = Readonly<Record<string, string | number>>;

export class DomainError extends Error {
  /** Set only where there is something to act on; built on the failure path, never on a success. */
  readonly data?: DomainErrorData;

  constructor(
    readonly code: DomainErrorCode,
    message: string,
    options?: { cause?: unknown; data?: DomainErrorData },
  ) {
    super(message, options);
    this.name = 'DomainError';
    if (options?.data !== undefined) this.data = options.data;
  }
}

/**
 * Every params message starts with the path of what is wrong (`query.condition[2].limit: ...`),
 * so the path is taken from there, once, rather than passed again beside each message.
 */
const PARAM_PATH = /^([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[\d+\])*): /;

export const invalidParams = (message: string) => {
  const path = PARAM_PATH.exec(message)?.[1];
  return new DomainError(DomainErrorCode.InvalidParams, message, path === undefined ? undefined : { data: { path } });
};

/** `Not found in database: <message>` (105), NodeGet's wording; `message` as NodeGet has it, e.g. `js_worker not found: x`. */
export const notFoundInDatabase = (message: string) => new DomainError(DomainErrorCode.NotFoundInDatabase, message);
