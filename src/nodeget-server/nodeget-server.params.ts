import type { WithToken } from '../token/token.guard';
import { TokenParam } from '../token/token.param';

/** hello, version and uuid take nothing (`[]`, `{}` or no params, as NodeGet). */
export const NO_PARAM_NAMES = [] as const;
export const LIST_ALL_AGENT_UUID_PARAM_NAMES = ['token'] as const;

export class ListAllAgentUuidParamsDto implements WithToken {
  @TokenParam()
  token: string;
}
