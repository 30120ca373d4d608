import { applyDecorators } from '@nestjs/common';
import { IsString } from 'class-validator';
import { describeJson } from '../common/describe-json';
import { Credential, Param } from '../json-rpc/rpc-params.validator';

/**
 * The `token` param every method takes, checked for its form only: whether it
 * is a credential at all is TokenGuard's business. Declare it last in a DTO,
 * so bad params are reported before a bad token.
 */
export const TokenParam = () =>
  applyDecorators(
    Param('token'),
    Credential('token'),
    IsString({ message: ({ value }) => `token: expected a string "key:secret" or "username|password", got ${describeJson(value)}` }),
  );
