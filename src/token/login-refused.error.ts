import { DomainError, DomainErrorCode, type DomainErrorData } from '../common/domain.error';

/** Which login rule refused a credential (all answer TooManyLogins, each with its own message). */
export type LoginRule = 'address' | 'username' | 'accounts_per_request' | 'hash_queue';

/** A TooManyLogins refusal that names its rule, so that metrics need not read the message. */
export class LoginRefusedError extends DomainError {
  constructor(
    readonly rule: LoginRule,
    message: string,
    data?: DomainErrorData,
  ) {
    super(DomainErrorCode.TooManyLogins, message, { data });
  }
}
