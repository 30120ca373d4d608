import { IsString } from 'class-validator';
import { DomainError, DomainErrorCode } from '../common/domain.error';
import { MAX_JSON_DEPTH } from '../common/json-depth';
import { Credential, Param, validateParams } from './rpc-params.validator';

class ProbeParams {
  @Param()
  @IsString({ message: 'name: expected a string' })
  name: string;

  @Param()
  data?: unknown;

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

  it('hands each param over as the very value parsed, never walked or copied: a member named constructor included', () => {
    const data = JSON.parse('{"constructor":{"prototype":{"x":1}},"__proto__":{"y":2},"list":[{"constructor":1}]}');
    const dto = sut(ProbeParams, { name: 'n', token: 'k:s', data });
    expect(dto.data).toBe(data);
    expect(JSON.stringify(dto.data)).toBe('{"constructor":{"prototype":{"x":1}},"__proto__":{"y":2},"list":[{"constructor":1}]}');
    expect(({} as Record<string, unknown>).x ?? ({} as Record<string, unknown>).y).toBeUndefined();
  });

  it('refuses a param nested deeper than MAX_JSON_DEPTH with -32602 naming it, and takes one nested that deep', () => {
    const nested = (levels: number) => JSON.parse('['.repeat(levels) + ']'.repeat(levels));
    const error = refusal({ name: 'n', data: nested(100_000) });
    expect({ code: error?.code, message: error?.message }).toEqual({
      code: DomainErrorCode.InvalidParams,
      message: `data: nested more than ${MAX_JSON_DEPTH} levels deep; at most ${MAX_JSON_DEPTH} levels of arrays and objects are accepted`,
    });
    expect(refusal({ name: 'n', data: nested(MAX_JSON_DEPTH + 1) })?.message).toMatch(/^data: nested more than/);
    expect(refusal({ name: 'n', token: 'k:s', data: nested(MAX_JSON_DEPTH) })).toBeUndefined();
  });

  it('lets storable text through as it was sent', () => {
    expect(sut(ProbeParams, { name: 'naïve \u{1F600}', token: 'k:s' })).toMatchObject({ name: 'naïve \u{1F600}' });
  });
});
