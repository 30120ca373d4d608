import { applyDecorators } from '@nestjs/common';
import { IsString, ValidateIf } from 'class-validator';
import { describeJson } from '../common/describe-json';
import { invalidParams } from '../common/domain.error';
import { Credential, Param, ParsedBy } from '../json-rpc/rpc-params.validator';
import { Positional } from '../json-rpc/rpc-params.positions';
import type { WithCredential, WithToken } from './token.guard';
import { TokenParam } from './token.param';
import type { NewToken } from './token.service';

/**
 * Params of the `token_*` methods, one DTO per method, properties in the
 * order they are checked: the credential last, so bad params are reported
 * before bad credentials. Only forms are checked here (-32602); what a
 * well-formed value may be (limits' contents, usernames, an empty target) is
 * the service's business (108), after the caller is known to be the super token.
 */

const CREDENTIAL_FORM = 'a string "key:secret" or "username|password"';

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const Text = (param: string, form: string) =>
  applyDecorators(Param(param), IsString({ message: ({ value }) => `${param}: expected ${form}, got ${describeJson(value)}` }));

const CredentialText = (param: string) => applyDecorators(Text(param, CREDENTIAL_FORM), Credential(param));

/** Absent or null: not given. */
function optionalString(at: string, raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string') return raw;
  throw invalidParams(`${at}: expected a string or null, got ${describeJson(raw)}`);
}

/** Absent or null: no bound. 64-bit integers arrive as BigInt; beyond 2^53 ms they are not times anyone means. */
function optionalTimestamp(at: string, raw: unknown): number | undefined {
  if (raw === undefined || raw === null) return undefined;
  const value = typeof raw === 'bigint' ? Number(raw) : raw;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  throw invalidParams(`${at}: expected a timestamp in ms (an integer) or null, got ${describeJson(raw)}`);
}

function limitList(at: string, raw: unknown): unknown[] {
  if (Array.isArray(raw)) return raw;
  throw invalidParams(`${at}: expected an array of limits [{"scopes": [...], "permissions": [...]}], got ${describeJson(raw)}`);
}

/** `token_creation` as NodeGet sends it; `version` is ignored (always 1). */
export function parseTokenCreation(raw: unknown): NewToken {
  if (!isRecord(raw)) {
    throw invalidParams(`token_creation: expected an object {"token_limit": [...], "username"?, "password"?, "timestamp_from"?, "timestamp_to"?}, got ${describeJson(raw)}`);
  }
  return {
    username: optionalString('token_creation.username', raw.username),
    password: optionalString('token_creation.password', raw.password),
    timestampFrom: optionalTimestamp('token_creation.timestamp_from', raw.timestamp_from),
    timestampTo: optionalTimestamp('token_creation.timestamp_to', raw.timestamp_to),
    limits: limitList('token_creation.token_limit', raw.token_limit),
  };
}

const TargetParam = () => Text('target_token', 'a token key, a username or a full credential (a string)');

export class TokenGetParams implements WithToken, WithCredential {
  /** The caller's own credential; with `supertoken`, any token's key, username or credential. */
  @Positional(0)
  @CredentialText('token')
  token: string;

  @Positional(1)
  @Param()
  @Credential()
  @ValidateIf((_dto: object, value: unknown) => value !== undefined && value !== null)
  @IsString({ message: ({ value }) => `supertoken: expected ${CREDENTIAL_FORM} or null, got ${describeJson(value)}` })
  supertoken?: string | null;

  get credential(): string {
    return this.supertoken ?? this.token;
  }
}

export class TokenCreateParams implements WithCredential {
  @Positional(1)
  @ParsedBy(parseTokenCreation, 'token_creation')
  creation: NewToken;

  @Positional(0)
  @CredentialText('father_token')
  fatherToken: string;

  get credential(): string {
    return this.fatherToken;
  }
}

export class TokenEditParams implements WithToken {
  @Positional(1)
  @TargetParam()
  target: string;

  @Positional(2)
  @ParsedBy((raw) => limitList('limit', raw), 'limit')
  limits: unknown[];

  @Positional(0)
  @TokenParam()
  token: string;
}

/** `token_delete` and `token_roll_token_secret`. */
export class TokenTargetParams implements WithToken {
  @Positional(1)
  @TargetParam()
  target: string;

  @Positional(0)
  @TokenParam()
  token: string;
}

export class TokenChangePasswordParams implements WithToken {
  @Positional(1)
  @TargetParam()
  target: string;

  @Positional(2)
  @Text('new_password', 'the new password (a string)')
  newPassword: string;

  @Positional(0)
  @TokenParam()
  token: string;
}

export class TokenListParams implements WithToken {
  @Positional(0)
  @TokenParam()
  token: string;
}
