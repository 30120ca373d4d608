import { UseGuards } from '@nestjs/common';
import { rpcAction } from '../database/audited-change';
import { DomainError, DomainErrorCode } from '../common/domain.error';
import { RpcAuth, type RpcInvocation, RpcInvocationInfo, RpcParams } from '../json-rpc/rpc-args.decorator';
import { RpcController } from '../json-rpc/rpc-controller.decorator';
import { RpcMethod } from '../json-rpc/rpc-method.decorator';
import type { Auth } from './auth';
import { SuperTokenGuard } from './super-token.guard';
import { TokenAuthenticator } from './token.authenticator';
import { loginOriginOf, TokenGuard } from './token.guard';
import {
  TokenChangePasswordParams,
  TokenCreateParams,
  TokenEditParams,
  TokenGetParams,
  TokenListParams,
  TokenTargetParams,
} from './token.params';
import {
  TOKEN_CHANGE_PASSWORD_DOC,
  TOKEN_CREATE_DOC,
  TOKEN_DELETE_DOC,
  TOKEN_EDIT_DOC,
  TOKEN_GET_DOC,
  TOKEN_LIST_DOC,
  TOKEN_ROLL_SECRET_DOC,
} from './token.openrpc';
import { targetName, tokenNotFound, type TokenObject, TokenService, toTokenObject } from './token.service';

/**
 * The `token_*` methods of NodeGet. `token_get` is open to every valid token
 * (its own object); the others need the super token (SuperTokenGuard).
 */
@RpcController()
@UseGuards(TokenGuard)
export class TokenRpcController {
  constructor(
    private readonly tokens: TokenService,
    private readonly authenticator: TokenAuthenticator,
  ) {}

  /**
   * Without `supertoken`: the caller's own token. With it (it must be the super
   * token): the token `token` names, by key or username, or by a full
   * credential, which is then checked like any other.
   */
  @RpcMethod('token_get', { doc: TOKEN_GET_DOC })
  async get(@RpcParams() params: TokenGetParams, @RpcAuth() auth: Auth): Promise<TokenObject> {
    if (params.supertoken === undefined || params.supertoken === null) return this.objectOf(auth.tokenId, targetName(params.token));
    if (auth.kind !== 'super') throw new DomainError(DomainErrorCode.PermissionDenied, 'supertoken is not the SuperToken');
    if (/[:|]/.test(params.token)) {
      const named = await this.authenticator.authenticate(params.token, loginOriginOf(auth));
      return this.objectOf(named.tokenId, targetName(params.token));
    }
    return toTokenObject((await this.tokens.findTarget(params.token)).token);
  }

  @RpcMethod('token_create', { doc: TOKEN_CREATE_DOC })
  @UseGuards(SuperTokenGuard)
  async create(
    @RpcParams() params: TokenCreateParams,
    @RpcAuth() auth: Auth,
    @RpcInvocationInfo() invocation: RpcInvocation,
  ): Promise<{ key: string; secret: string }> {
    const { key, secret } = await this.tokens.create(params.creation, rpcAction(invocation, auth.tokenKey));
    return { key, secret };
  }

  @RpcMethod('token_edit', { doc: TOKEN_EDIT_DOC })
  @UseGuards(SuperTokenGuard)
  edit(@RpcParams() params: TokenEditParams, @RpcAuth() auth: Auth, @RpcInvocationInfo() invocation: RpcInvocation) {
    return this.tokens.edit(params.target, params.limits, rpcAction(invocation, auth.tokenKey));
  }

  @RpcMethod('token_delete', { doc: TOKEN_DELETE_DOC })
  @UseGuards(SuperTokenGuard)
  delete(@RpcParams() params: TokenTargetParams, @RpcAuth() auth: Auth, @RpcInvocationInfo() invocation: RpcInvocation) {
    return this.tokens.delete(params.target, rpcAction(invocation, auth.tokenKey));
  }

  @RpcMethod('token_change_password', { doc: TOKEN_CHANGE_PASSWORD_DOC })
  @UseGuards(SuperTokenGuard)
  changePassword(@RpcParams() params: TokenChangePasswordParams, @RpcAuth() auth: Auth, @RpcInvocationInfo() invocation: RpcInvocation) {
    return this.tokens.changePassword(params.target, params.newPassword, rpcAction(invocation, auth.tokenKey));
  }

  @RpcMethod('token_roll_token_secret', { doc: TOKEN_ROLL_SECRET_DOC })
  @UseGuards(SuperTokenGuard)
  rollSecret(@RpcParams() params: TokenTargetParams, @RpcAuth() auth: Auth, @RpcInvocationInfo() invocation: RpcInvocation) {
    return this.tokens.rollSecret(params.target, rpcAction(invocation, auth.tokenKey));
  }

  @RpcMethod('token_list_all_tokens', { doc: TOKEN_LIST_DOC })
  @UseGuards(SuperTokenGuard)
  async listAll(@RpcParams() _params: TokenListParams): Promise<{ tokens: TokenObject[] }> {
    return { tokens: (await this.tokens.list()).map(toTokenObject) };
  }

  /** The token with this id (it may have been deleted a moment ago: 105, naming it by `name`, never a secret). */
  private async objectOf(tokenId: number, name: string): Promise<TokenObject> {
    const token = await this.tokens.findById(tokenId);
    if (token === null) throw tokenNotFound(name);
    return toTokenObject(token);
  }
}
