import { DomainError, DomainErrorCode } from './domain.error';

/** How to ask for less, the same whichever limit was reached. */
const ASK_FOR_LESS = 'ask for less: a smaller limit, fewer fields, fewer calls per batch, or js-result_page';

/**
 * `data` of a 108 for a reply too large: which limit (`limit`, its setting's name), its
 * `limit_bytes`, the answer's `size_bytes` when it was measured, and for the
 * request's limit the `left_bytes` that the request's other calls had not taken.
 */
export type ResponseTooLargeData = {
  limit: 'MAX_CALL_RESPONSE_BYTES' | 'MAX_RESPONSE_BYTES';
  limit_bytes: number;
  size_bytes?: number;
  left_bytes?: number;
};

export const responseTooLarge = (reason: string, data: ResponseTooLargeData) =>
  new DomainError(DomainErrorCode.ResponseTooLarge, `${reason}; ${ASK_FOR_LESS}`, { data });

/**
 * The bytes of reply one request (an HTTP body or a WebSocket frame, a call
 * or a batch) may still be answered with, shared by its calls, and the most
 * one call may take. Each call's answer is charged as soon as it is written,
 * so a batch never holds more than the request's limit of written answers;
 * reads that can stop early ask `allowance` how far they may go.
 */
export class ReplyBudget {
  private used = 0;
  /**
   * Set once an answer did not fit what was left: the request's later reads
   * are refused before they run, rather than each read in full only to learn
   * that it does not fit either (the CPU a hostile batch could otherwise take).
   */
  private spent = false;

  constructor(
    /** MAX_RESPONSE_BYTES: all answers of the request together. */
    readonly requestLimit: number,
    /** MAX_CALL_RESPONSE_BYTES: any one answer. */
    readonly callLimit: number,
  ) {}

  /** The most bytes the next answer may take now. */
  get allowance(): number {
    return this.spent ? 0 : Math.min(this.callLimit, this.left);
  }

  /** Takes `bytes` for an answer, or throws the error that names the limit it would break (nothing taken then). */
  charge(bytes: number): void {
    this.check(bytes);
    this.used += bytes;
  }

  /** Throws the error for an answer of `bytes` if it would not fit; for reads that learn their size before it is written. */
  check(bytes: number): void {
    if (bytes > this.callLimit) {
      throw responseTooLarge(`the answer would be ${bytes} bytes, over the MAX_CALL_RESPONSE_BYTES limit of ${this.callLimit} bytes per call`, {
        limit: 'MAX_CALL_RESPONSE_BYTES',
        limit_bytes: this.callLimit,
        size_bytes: bytes,
      });
    }
    if (this.spent || bytes > this.left) throw this.overRequest(`the answer would be ${bytes} bytes`, bytes);
  }

  /** Throws, before a read runs, when the request has nothing left for it. */
  ensureLeft(): void {
    if (this.allowance <= 0) throw this.overRequest('the answer would not fit');
  }

  private get left(): number {
    return Math.max(0, this.requestLimit - this.used);
  }

  private overRequest(what: string, bytes?: number): DomainError {
    const left = this.spent ? 0 : this.left;
    this.spent = true;
    const data: ResponseTooLargeData = { limit: 'MAX_RESPONSE_BYTES', limit_bytes: this.requestLimit, left_bytes: left };
    if (bytes !== undefined) data.size_bytes = bytes;
    return responseTooLarge(`${what}, over the ${left} bytes left of the MAX_RESPONSE_BYTES limit of ${this.requestLimit} bytes per request`, data);
  }
}

/** For work done outside any request (tests, scripts): no limit. */
export const unlimitedReplies = () => new ReplyBudget(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
