import { type ClassConstructor, Expose, plainToInstance, Transform } from 'class-transformer';
import { ValidateBy, type ValidationError, validateSync } from 'class-validator';
import { DomainError, DomainErrorCode, invalidParams } from '../common/domain.error';
import type { NamedParams } from './rpc-call';

/**
 * Turns a call's named params into its DTO, or throws -32602 with the message
 * of the first property that failed, in the order the DTO declares them (so a
 * DTO lists `token` last: bad params are reported before a bad token).
 * Only declared properties are copied (`@Expose()`), so unknown params are
 * ignored and cannot reach the DTO's prototype.
 */
export function validateParams<T extends object>(dtoClass: ClassConstructor<T>, params: NamedParams): T {
  const dto = plainToInstance(dtoClass, params, { excludeExtraneousValues: true });
  const errors = validateSync(dto, { stopAtFirstError: true, forbidUnknownValues: false });
  if (errors.length > 0) throw invalidParams(firstMessage(errors[0]));
  return dto;
}

function firstMessage(error: ValidationError): string {
  const messages = Object.values(error.constraints ?? {});
  if (messages.length > 0) return messages[0];
  return error.children?.[0] ? firstMessage(error.children[0]) : `${error.property}: invalid`;
}

/** A parser's refusal, kept until validation reports it in its turn. */
class ParseFailure {
  constructor(readonly message: string) {}
}

/**
 * A param taken exactly as the client sent it (`wireName`, by default the
 * property's own name), for class-validator decorators to check. Values are
 * not converted on the way in, so JSON objects and 64-bit integers arrive as
 * they were parsed.
 */
export function Param(wireName?: string): PropertyDecorator {
  return (target, key) => {
    const name = wireName ?? String(key);
    Expose({ name })(target, key);
    Transform(({ obj }) => (obj as NamedParams)[name])(target, key);
  };
}

/**
 * A param parsed by `parse` (which throws a domain error naming the position,
 * e.g. `query.condition[2].limit: ...`) into a typed value. The refusal is
 * reported by validation, in property order, like any other constraint.
 */
export function ParsedBy<T>(parse: (raw: unknown) => T, wireName?: string): PropertyDecorator {
  const validate = ValidateBy({
    name: 'parsedBy',
    validator: {
      validate: (value: unknown) => !(value instanceof ParseFailure),
      defaultMessage: (args) => (args?.value as ParseFailure).message,
    },
  });
  return (target, key) => {
    const name = wireName ?? String(key);
    Expose({ name })(target, key);
    Transform(({ obj }) => {
      try {
        return parse((obj as NamedParams)[name]);
      } catch (error) {
        if (error instanceof DomainError && error.code === DomainErrorCode.InvalidParams) return new ParseFailure(error.message);
        throw error;
      }
    })(target, key);
    validate(target, key as string);
  };
}
