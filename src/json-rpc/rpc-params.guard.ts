import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { ClassConstructor } from 'class-transformer';
import { rpcParamsClass } from './rpc-args.decorator';
import { rpcCallOf } from './rpc-call';
import { validateParams } from './rpc-params.validator';

/**
 * Validates and transforms a call's params into the DTO its handler declares
 * with `@RpcParams()`. It is a guard, global to JSON-RPC methods (rpc-context.creator.ts) so that it runs
 * first, because the contract checks params before credentials (-32602 before
 * 101/102) and Nest runs guards before pipes: as a pipe it would only see the
 * params after the token guard had already judged the token.
 */
@Injectable()
export class RpcParamsGuard implements CanActivate {
  private readonly dtoClasses = new WeakMap<Function, ClassConstructor<object> | null>();

  canActivate(context: ExecutionContext): boolean {
    const call = rpcCallOf(context);
    if (call === undefined) return true;
    const dtoClass = this.dtoClassOf(context);
    if (dtoClass !== null) call.dto = validateParams(dtoClass, call.params);
    return true;
  }

  private dtoClassOf(context: ExecutionContext): ClassConstructor<object> | null {
    const handler = context.getHandler();
    let dtoClass = this.dtoClasses.get(handler);
    if (dtoClass === undefined) {
      dtoClass = rpcParamsClass(context.getClass().prototype as object, handler.name) ?? null;
      this.dtoClasses.set(handler, dtoClass);
    }
    return dtoClass;
  }
}
