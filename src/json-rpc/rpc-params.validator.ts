import { type ClassConstructor, Expose, plainToInstance, Transform } from 'class-transformer';
import { ValidateBy, type ValidationError, validateSync } from 'class-validator';
import { DomainError, DomainErrorCode, invalidParams } from '../common/domain.error';
import { findUnacceptableJson } from '../common/storable-text';
import type { NamedParams } from './rpc-call';
import { recordWireName } from './rpc-params.positions';

/**
 * What class-transformer is given in place of the call's params: they sit
 * under a symbol, which it never copies, and the param decorators read them
 * from there. Given the params themselves, it would walk every value a
 * client sent, recursively and before any decorator sees it, copying it only
 * for the decorator to take the original: a call's whole JSON copied once
 * more, its nesting as deep as the recursion, and a member named
 * `constructor` anywhere taken for a class to build (an internal error).
 */
const CALL_PARAMS = Symbol('call params');

interface ParamsHolder {
  readonly [CALL_PARAMS]: NamedParams;
}

/** The call's params, from the object class-transformer hands a decorator's transform (`obj`). */
export function callParamsIn(obj: unknown): NamedParams {
  return (obj as ParamsHolder)[CALL_PARAMS];
}

/**
 * Turns a call's named params into its DTO, or throws -32602 with the message
 * of the first property that failed, in the order the DTO declares them (so a
 * DTO lists `token` last: bad params are reported before a bad token).
 * Only declared properties are copied (`@Expose()`), so unknown params are
 * ignored and cannot reach the DTO's prototype.
 */
export function validateParams<T extends object>(dtoClass: ClassConstructor<T>, params: NamedParams): T {
  refuseUnacceptableParams(params, credentialParamsOf(dtoClass));
  const holder: ParamsHolder = { [CALL_PARAMS]: params };
  const dto = plainToInstance(dtoClass, holder, { excludeExtraneousValues: true });
  const errors = validateSync(dto, { stopAtFirstError: true, forbidUnknownValues: false });
  if (errors.length > 0) throw invalidParams(firstMessage(errors[0]));
  return dto;
}

function firstMessage(error: ValidationError): string {
  const messages = Object.values(error.constraints ?? {});
  if (messages.length > 0) return messages[0];
  return error.children?.[0] ? firstMessage(error.children[0]) : `${error.property}: invalid`;
}

/**
 * Text PostgreSQL cannot store (U+0000, unpaired surrogates), anywhere in any
 * param, is refused here, before any param is used: otherwise it fails in the
 * database as an internal error, or is silently changed. So is a number past
 * a double's range (`1e400`, read as Infinity: stored, it would become null),
 * and a param nested deeper than MAX_JSON_DEPTH, which would overflow the
 * stack of the first recursive walk to meet it (a message, JSON.stringify).
 * Credentials are left to TokenGuard, which refuses them like any other bad
 * credential (102), so that a credential's contents are never described in
 * an error.
 */
function refuseUnacceptableParams(params: NamedParams, credentials: ReadonlySet<string>): void {
  for (const name of Object.keys(params)) {
    if (credentials.has(name)) continue;
    const refusal = findUnacceptableJson(params[name], name);
    if (refusal !== undefined) throw invalidParams(refusal);
  }
}

/** The wire names of each DTO class's credential params (its own; a subclass also has its parents'). */
const credentialParams = new WeakMap<Function, Set<string>>();
const NO_CREDENTIALS: ReadonlySet<string> = new Set();

/**
 * Marks a param as a credential (the caller's `token`, `father_token`,
 * `supertoken`): it is checked by TokenGuard, not described by params errors.
 */
export function Credential(wireName?: string): PropertyDecorator {
  return (target, key) => {
    const owner = target.constructor;
    const names = credentialParams.get(owner) ?? new Set<string>();
    names.add(wireName ?? String(key));
    credentialParams.set(owner, names);
  };
}

/** Per DTO class, gathered once: decorators have all run by the time a call comes. */
const resolvedCredentialParams = new WeakMap<Function, ReadonlySet<string>>();

function credentialParamsOf(dtoClass: Function): ReadonlySet<string> {
  let names = resolvedCredentialParams.get(dtoClass);
  if (names === undefined) {
    const gathered = new Set<string>();
    for (let current: unknown = dtoClass; typeof current === 'function' && current !== Function.prototype; current = Object.getPrototypeOf(current)) {
      for (const name of credentialParams.get(current) ?? NO_CREDENTIALS) gathered.add(name);
    }
    names = gathered;
    resolvedCredentialParams.set(dtoClass, names);
  }
  return names;
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
    recordWireName(target, key, name);
    Expose({ name })(target, key);
    Transform(({ obj }) => callParamsIn(obj)[name])(target, key);
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
    recordWireName(target, key, name);
    Expose({ name })(target, key);
    Transform(({ obj }) => {
      try {
        return parse(callParamsIn(obj)[name]);
      } catch (error) {
        if (error instanceof DomainError && error.code === DomainErrorCode.InvalidParams) return new ParseFailure(error.message);
        throw error;
      }
    })(target, key);
    validate(target, key as string);
  };
}
