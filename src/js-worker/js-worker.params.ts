import { applyDecorators } from '@nestjs/common';
import { Expose, plainToInstance, Transform } from 'class-transformer';
import { IsString, ValidateBy, ValidateIf, ValidateNested, type ValidationArguments } from 'class-validator';
import { describeJson } from '../common/describe-json';
import { invalidParams } from '../common/domain.error';
import type { NamedParams } from '../json-rpc/rpc-call';
import { TokenParam } from '../token/token.param';
import { Param, ParsedBy } from '../json-rpc/rpc-params.validator';
import { ParamGroup, Positional, positionalParams } from '../json-rpc/rpc-params.positions';
import type { WithToken } from '../token/token.guard';
import { routeParamsError } from './js-worker.route-params';

/**
 * Params of the `js-worker_*` methods, one DTO per method. Only the form is
 * checked here (-32602, before the token is looked at); what a well-formed
 * value may be (name rules, base64, limit bounds, the script itself) is the
 * service's business (108), after the caller is known, so that nobody without
 * permission can make the server evaluate a script.
 *
 * The first failing property in declaration order is the one reported, so
 * each DTO declares its properties in the order the contract checks them,
 * `token` last.
 */

export type RunType = 'call' | 'cron' | 'route';

/** A limit as given: a number, `null` for "back to the default", or absent. */
export type LimitParam = number | bigint | null | undefined;

export interface LimitParams {
  maxRunTime: LimitParam;
  maxStackSize: LimitParam;
  maxHeapSize: LimitParam;
}

const RUN_TYPES: readonly RunType[] = ['call', 'cron', 'route'];
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const NAME_FORM = 'a worker name (a string)';
const BASE64_FORM = 'the script as a base64 string';

/** `<param>: expected <form>, got <value>`, the shape of every form error. */
const expected = (param: string, form: string) => ({ value }: ValidationArguments) =>
  `${param}: expected ${form}, got ${describeJson(value)}`;

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

// ---------------------------------------------------------------------------
// Parsers for @ParsedBy: the params whose value is not used as sent.

/** `undefined` for absent or null, so each method decides what no env means. */
function parseEnv(raw: unknown): Record<string, unknown> | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isRecord(raw)) throw invalidParams(`env: expected a JSON object such as {"API_URL": "..."}, got ${describeJson(raw)}`);
  return raw;
}

/** A new worker without env gets an empty one: env is stored NOT NULL. */
const parseEnvOrEmpty = (raw: unknown) => parseEnv(raw) ?? {};

/** On update, absent leaves the env as it is and null clears it (it is stored NOT NULL). */
const parseEnvChange = (raw: unknown) => (raw === undefined ? undefined : (parseEnv(raw) ?? {}));

function parseDescription(raw: unknown): string | null | undefined {
  if (raw === undefined || raw === null || typeof raw === 'string') return raw;
  throw invalidParams(`description: expected a string or null, got ${describeJson(raw)}`);
}

const parseDescriptionOrNull = (raw: unknown) => parseDescription(raw) ?? null;

/** Its rules are the service's (108); here only "a string or null". */
function parseRouteName(raw: unknown): string | null | undefined {
  if (raw === undefined || raw === null || typeof raw === 'string') return raw;
  throw invalidParams(`route_name: expected a string or null, got ${describeJson(raw)}`);
}

/** Positive or not is the service's business (108); here only "an integer or null". */
function parseRuntimeCleanTime(raw: unknown): number | bigint | null | undefined {
  if (raw === undefined || raw === null || typeof raw === 'bigint') return raw;
  if (typeof raw === 'number' && Number.isInteger(raw)) return raw;
  throw invalidParams(`runtime_clean_time: expected an integer (milliseconds) or null, got ${describeJson(raw)}`);
}

/** Absent or null means `call` (the handler `onCall`); `route` runs `onRoute` with a Request made from the params. */
function parseRunType(raw: unknown): RunType {
  const runType = raw ?? 'call';
  if (!RUN_TYPES.includes(runType as RunType)) throw invalidParams(`run_type: expected "call", "cron" or "route", got ${describeJson(runType)}`);
  return runType as RunType;
}

/** For `run_type: "route"`, the params must make a Request (js-worker.route-params.ts); otherwise anything goes. */
const RouteParamsWhenRoute = () =>
  ValidateBy({
    name: 'routeParams',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) =>
        (args?.object as RunWorkerParamsDto).runType !== 'route' || routeParamsError(value) === undefined,
      defaultMessage: (args?: ValidationArguments) => routeParamsError(args?.value) ?? 'params: invalid',
    },
  });

/** Bounds are the service's (108); here only "an integer or null". 64-bit integers arrive as BigInt. */
const parseLimit = (param: string, unit: string) => (raw: unknown): LimitParam => {
  if (raw === undefined || raw === null || typeof raw === 'bigint') return raw;
  if (typeof raw === 'number' && Number.isInteger(raw)) return raw;
  throw invalidParams(`${param}: expected an integer (${unit}) or null for the default, got ${describeJson(raw)}`);
};

// ---------------------------------------------------------------------------
// Decorators shared by the DTOs.

const WorkerName = (wireName: string) => applyDecorators(Param(wireName), IsString({ message: expected(wireName, NAME_FORM) }));

const Limit = (wireName: string, unit: string) => ParsedBy(parseLimit(wireName, unit), wireName);

/** The three limits, which the service takes together; checked in this order. */
class LimitParamsDto implements LimitParams {
  @Positional(5)
  @Limit('max_run_time', 'milliseconds')
  maxRunTime: LimitParam;

  @Positional(6)
  @Limit('max_stack_size', 'bytes')
  maxStackSize: LimitParam;

  @Positional(7)
  @Limit('max_heap_size', 'bytes')
  maxHeapSize: LimitParam;
}

/**
 * `limits`: the limit params gathered into one LimitParamsDto. They are flat
 * on the wire, so the group is built from all the call's params (neither
 * @Param nor @ParsedBy can: they see one param each) and validated in place,
 * so its first failure is reported at this property's turn.
 */
const LimitGroup = () =>
  applyDecorators(
    Expose(),
    // `obj` is what the DTO itself was built from: the group's own params read the call's params from it alike.
    Transform(({ obj }) => plainToInstance(LimitParamsDto, obj, { excludeExtraneousValues: true })),
    ValidateNested(),
    ParamGroup(LimitParamsDto),
  );

/**
 * An update must change something. Given-ness is read on the DTO: every
 * updatable property is `undefined` exactly when its param was absent
 * (malformed values are kept for their own check to report).
 */
const SomethingToChange = () =>
  ValidateBy(
    {
      name: 'somethingToChange',
      validator: { validate: (_value: unknown, args?: ValidationArguments) => changesSomething(args?.object as UpdateWorkerParamsDto) },
    },
    { message: () => `expected at least one field to change: ${updatableFields().join(', ')}` },
  );

/** Every param of an update but the caller's token and the worker's name, in positional order. */
const updatableFields = () => positionalParams(UpdateWorkerParamsDto).filter((name) => name !== 'token' && name !== 'name');

function changesSomething({ scriptBase64, limits, description, env, routeName, runtimeCleanTime }: UpdateWorkerParamsDto): boolean {
  return [scriptBase64, limits.maxRunTime, limits.maxStackSize, limits.maxHeapSize, description, env, routeName, runtimeCleanTime].some(
    (value) => value !== undefined,
  );
}

function isInt64(value: unknown): value is number | bigint {
  return (typeof value === 'number' && Number.isSafeInteger(value)) || (typeof value === 'bigint' && value >= INT64_MIN && value <= INT64_MAX);
}

const Int64 = (message: (args: ValidationArguments) => string) => ValidateBy({ name: 'isInt64', validator: { validate: isInt64 } }, { message });

// ---------------------------------------------------------------------------
// One DTO per method.

export class CreateWorkerParamsDto implements WithToken {
  @Positional(1)
  @WorkerName('name')
  name: string;

  @Positional(2)
  @ParsedBy(parseDescriptionOrNull)
  description: string | null;

  @Positional(3)
  @Param('js_script_base64')
  @IsString({ message: expected('js_script_base64', BASE64_FORM) })
  scriptBase64: string;

  // NodeGet has these two after js_script_base64; they come last positionally so that positional calls of the older list keep working.
  @Positional(8)
  @ParsedBy(parseRouteName, 'route_name')
  routeName?: string | null;

  @Positional(9)
  @ParsedBy(parseRuntimeCleanTime, 'runtime_clean_time')
  runtimeCleanTime?: number | bigint | null;

  @Positional(4)
  @ParsedBy(parseEnvOrEmpty)
  env: Record<string, unknown>;

  @LimitGroup()
  limits: LimitParams;

  @Positional(0)
  @TokenParam()
  token: string;
}

/** Absent fields are left as they are. Unlike create, the limits are checked before description and env. */
export class UpdateWorkerParamsDto implements WithToken {
  // Decorators apply bottom-up, so the name's form is checked first, then whether the call changes anything.
  @Positional(1)
  @SomethingToChange()
  @WorkerName('name')
  name: string;

  @Positional(3)
  @Param('js_script_base64')
  @ValidateIf((_dto: object, value: unknown) => value !== undefined)
  @IsString({ message: expected('js_script_base64', BASE64_FORM) })
  scriptBase64?: string;

  @LimitGroup()
  limits: LimitParams;

  @Positional(2)
  @ParsedBy(parseDescription)
  description?: string | null;

  @Positional(4)
  @ParsedBy(parseEnvChange)
  env?: Record<string, unknown>;

  /** Absent leaves it, null clears it. */
  @Positional(8)
  @ParsedBy(parseRouteName, 'route_name')
  routeName?: string | null;

  @Positional(9)
  @ParsedBy(parseRuntimeCleanTime, 'runtime_clean_time')
  runtimeCleanTime?: number | bigint | null;

  @Positional(0)
  @TokenParam()
  token: string;
}

/** `js-worker_read` and `js-worker_delete`. */
export class NamedWorkerParamsDto implements WithToken {
  @Positional(1)
  @WorkerName('name')
  name: string;

  @Positional(0)
  @TokenParam()
  token: string;
}

export class ListWorkersParamsDto implements WithToken {
  @Positional(0)
  @TokenParam()
  token: string;
}

export class RunWorkerParamsDto implements WithToken {
  @Positional(1)
  @WorkerName('js_script_name')
  name: string;

  @Positional(2)
  @ParsedBy(parseRunType, 'run_type')
  runType: RunType;

  /** Passed through as sent; `undefined` when the call gave none, so the handler's default parameter applies. */
  @Positional(3)
  @Param()
  @RouteParamsWhenRoute()
  params: unknown;

  /** Merged over the worker's stored env for this run only. */
  @Positional(4)
  @ParsedBy(parseEnv)
  env?: Record<string, unknown>;

  @Positional(0)
  @TokenParam()
  token: string;
}

export class RunConsoleParamsDto implements WithToken {
  @Positional(1)
  @Param()
  @Int64(expected('id', 'the js_result id (a 64-bit signed integer)'))
  id: number | bigint;

  @Positional(0)
  @TokenParam()
  token: string;
}
