import { applyDecorators } from '@nestjs/common';
import { IsBoolean, IsString, type ValidationArguments } from 'class-validator';
import { describeJson } from '../common/describe-json';
import { invalidParams } from '../common/domain.error';
import { type ParsedConditions, parseConditionList } from '../js-result/conditions/condition.parser';
import { Param, ParsedBy } from '../json-rpc/rpc-params.validator';
import { Positional } from '../json-rpc/rpc-params.positions';
import type { WithToken } from '../token/token.guard';
import { TokenParam } from '../token/token.param';
import { CRONTAB_RESULT_CONDITIONS, type CrontabResultFilter } from './crontab-result.conditions';

/**
 * Params of the `crontab_*` and `crontab-result_*` methods. Only the form is
 * checked here (-32602, before credentials); the rules on names, expressions
 * and jobs are the service's (108, 101), after the caller is known.
 */

/** What a job runs: a stored worker with params (the only kind here), or NodeGet's agent kind, refused by the service. */
export type CronTypeParam = { kind: 'server'; workerName: string; params: unknown } | { kind: 'agent' };

const CRON_TYPE_FORM = '{"server": {"js_worker": [worker_name, params]}} or {"agent": [[uuids], task]}';

function oneKey(value: unknown): [string, unknown] | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  return keys.length === 1 ? [keys[0], (value as Record<string, unknown>)[keys[0]]] : undefined;
}

/** NodeGet's `CronType` as serde reads it: one-key objects for its variants, a two-element array for the worker's. */
export function parseCronType(raw: unknown): CronTypeParam {
  const variant = oneKey(raw);
  if (variant?.[0] === 'agent') return { kind: 'agent' };
  const server = variant?.[0] === 'server' ? oneKey(variant[1]) : undefined;
  if (server?.[0] !== 'js_worker') throw invalidParams(`cron_type: expected ${CRON_TYPE_FORM}, got ${describeJson(raw)}`);
  const args = server[1];
  if (!Array.isArray(args) || args.length !== 2 || typeof args[0] !== 'string') {
    throw invalidParams(`cron_type.server.js_worker: expected [worker_name, params] (a string and any JSON value), got ${describeJson(args)}`);
  }
  return { kind: 'server', workerName: args[0], params: args[1] };
}

const text = (wireName: string, form: string) =>
  applyDecorators(
    Param(wireName),
    IsString({ message: ({ value }: ValidationArguments) => `${wireName}: expected ${form}, got ${describeJson(value)}` }),
  );

/** `query` is `{"condition": [...]}` of crontab-result's conditions. */
export function parseCrontabResultQuery(query: unknown): ParsedConditions<CrontabResultFilter> {
  if (query === undefined) throw invalidParams('query: missing; expected {"condition": [...]}');
  if (query === null || typeof query !== 'object' || Array.isArray(query)) {
    throw invalidParams(`query: expected an object {"condition": [...]}, got ${describeJson(query)}`);
  }
  return parseConditionList((query as Record<string, unknown>).condition, CRONTAB_RESULT_CONDITIONS);
}

/** `crontab_create` and `crontab_edit`. */
export class CrontabWriteParams implements WithToken {
  @Positional(1)
  @text('name', 'a job name (a string)')
  name: string;

  @Positional(2)
  @text('cron_expression', 'a cron expression (a string)')
  cronExpression: string;

  @Positional(3)
  @ParsedBy(parseCronType, 'cron_type')
  cronType: CronTypeParam;

  @Positional(0)
  @TokenParam()
  token: string;
}

export class CrontabGetParams implements WithToken {
  @Positional(0)
  @TokenParam()
  token: string;
}

export class CrontabNamedParams implements WithToken {
  @Positional(1)
  @text('name', 'a job name (a string)')
  name: string;

  @Positional(0)
  @TokenParam()
  token: string;
}

export class CrontabSetEnableParams implements WithToken {
  @Positional(1)
  @text('name', 'a job name (a string)')
  name: string;

  @Positional(2)
  @Param('enable')
  @IsBoolean({ message: ({ value }: ValidationArguments) => `enable: expected true or false, got ${describeJson(value)}` })
  enable: boolean;

  @Positional(0)
  @TokenParam()
  token: string;
}

export class CrontabResultParams implements WithToken {
  @Positional(1)
  @ParsedBy(parseCrontabResultQuery, 'query')
  selection: ParsedConditions<CrontabResultFilter>;

  @Positional(0)
  @TokenParam()
  token: string;
}
