import { Positional } from '../json-rpc/rpc-params.positions';
import type { WithToken } from '../token/token.guard';
import { TokenParam } from '../token/token.param';

export class ListAllAgentUuidParamsDto implements WithToken {
  @Positional(0)
  @TokenParam()
  token: string;
}
