import { DomainError, DomainErrorCode } from '../common/domain.error';
import { checkRouteName, checkRuntimeCleanTime } from './js-worker.route-name';

function refusal(check: () => unknown): DomainError {
  try {
    check();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe(checkRouteName.name, () => {
  const sut = checkRouteName;

  it('keeps names of [A-Za-z0-9._-] up to 128 characters, trimmed as NodeGet does', () => {
    expect(sut('my-worker_1.v2')).toBe('my-worker_1.v2');
    expect(sut('  padded  ')).toBe('padded');
    expect(sut('a'.repeat(128))).toBe('a'.repeat(128));
    expect(sut('.hidden')).toBe('.hidden');
  });

  it('passes null (no route) and undefined (not given) through', () => {
    expect(sut(null)).toBeNull();
    expect(sut(undefined)).toBeUndefined();
  });

  it.each([
    ['', 'route_name cannot be empty string'],
    ['   ', 'route_name cannot be empty string'],
    ['a'.repeat(129), 'route_name too long (max 128 chars)'],
    ['a/b', 'route_name can only contain [a-zA-Z0-9._-]'],
    ['naïve', 'route_name can only contain [a-zA-Z0-9._-]'],
    ['a b', 'route_name can only contain [a-zA-Z0-9._-]'],
    ['.', "route_name cannot be '.' or '..'"],
    ['..', "route_name cannot be '.' or '..'"],
    ['....', "route_name cannot be '.' or '..'"],
  ])('refuses %j with 108: %s', (raw, message) => {
    const error = refusal(() => sut(raw));
    expect(error.code).toBe(DomainErrorCode.NotAcceptable);
    expect(error.message).toBe(message);
  });
});

describe(checkRuntimeCleanTime.name, () => {
  const sut = checkRuntimeCleanTime;

  it('keeps positive integers, as numbers', () => {
    expect(sut(1)).toBe(1);
    expect(sut(120_000)).toBe(120_000);
    expect(sut(BigInt(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(sut(null)).toBeNull();
    expect(sut(undefined)).toBeUndefined();
  });

  it.each([[0], [-1], [2n ** 53n], [2n ** 63n - 1n]])('refuses %p with 108', (raw) => {
    const error = refusal(() => sut(raw));
    expect(error.code).toBe(DomainErrorCode.NotAcceptable);
    expect(error.message).toMatch(/^runtime_clean_time: must be a positive integer of milliseconds/);
  });
});
