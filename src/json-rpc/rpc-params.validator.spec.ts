import { IsString } from 'class-validator';
import { DomainError, DomainErrorCode } from '../common/domain.error';
import { Credential, Param, validateParams } from './rpc-params.validator';

class ProbeParams {
  @Param()
  @IsString({ message: 'name: expected a string' })
  name: string;

  @Param('token')
  @Credential('token')
  @IsString({ message: 'token: expected a string' })
  token: string;
}

function refusal(params: Record<string, unknown>): DomainError | undefined {
  try {
    validateParams(ProbeParams, params);
    return undefined;
  } catch (error) {
    return error as DomainError;
  }
}

describe(validateParams.name, () => {
  const sut = validateParams;

  it('refuses U+0000 in any param with -32602 naming where, before checking forms', () => {
    const error = refusal({ name: 7, extra: { list: ['ok', 'no\u0000'] } });
    expect(error).toBeInstanceOf(DomainError);
    expect(error?.code).toBe(DomainErrorCode.InvalidParams);
    expect(error?.message).toBe('extra.list[1]: contains a NUL character (U+0000), which cannot be stored');
  });

  it('leaves credentials to the token guard', () => {
    expect(sut(ProbeParams, { name: 'n', token: 'k\u0000:s' })).toMatchObject({ name: 'n', token: 'k\u0000:s' });
  });

  it('lets storable text through as it was sent', () => {
    expect(sut(ProbeParams, { name: 'naïve \u{1F600}', token: 'k:s' })).toMatchObject({ name: 'naïve \u{1F600}' });
  });
});
