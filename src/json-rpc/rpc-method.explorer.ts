import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, ExternalContextCreator, MetadataScanner, Reflector } from '@nestjs/core';
import { RPC_ARGS_METADATA, rpcArgsFactory } from './rpc-args.decorator';
import { JSON_RPC_CONTEXT, type RpcCall } from './rpc-call';
import { RPC_CONTROLLER_METADATA } from './rpc-controller.decorator';
import { RPC_METHOD_METADATA, type RpcMethodMetadata } from './rpc-method.decorator';

/** A JSON-RPC method bound to its handler, wrapped in Nest's guards, interceptors, pipes and filters. */
export interface RpcHandler extends RpcMethodMetadata {
  run(call: RpcCall): Promise<unknown>;
}

/**
 * Finds every `@RpcMethod` of every `@RpcController()` once, at start-up, and wraps
 * each in Nest's pipeline for external contexts (as @nestjs/graphql does for
 * resolvers), so a call is guarded, intercepted and filtered like an HTTP
 * route, with its own execution context. The wrapping is built once per
 * method, not per call.
 */
@Injectable()
export class RpcMethodExplorer implements OnApplicationBootstrap {
  private readonly handlers = new Map<string, RpcHandler>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly contextCreator: ExternalContextCreator,
  ) {}

  onApplicationBootstrap(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.metatype) continue;
      if (!this.reflector.get<boolean | undefined>(RPC_CONTROLLER_METADATA, wrapper.metatype)) continue;
      for (const methodName of this.scanner.getAllMethodNames(Object.getPrototypeOf(instance))) {
        const callback = instance[methodName];
        if (typeof callback !== 'function') continue;
        const metadata = this.reflector.get<RpcMethodMetadata | undefined>(RPC_METHOD_METADATA, callback);
        if (metadata) this.register(metadata, this.wrap(instance, callback as (...args: unknown[]) => unknown, methodName));
      }
    }
  }

  find(name: string): RpcHandler | undefined {
    return this.handlers.get(name);
  }

  /** Every registered method, in the order found: what the OpenRPC document describes. */
  registered(): readonly RpcMethodMetadata[] {
    return [...this.handlers.values()].map(({ run: _run, ...metadata }) => metadata);
  }

  /** Whether the methods have been found yet (they are, at application bootstrap). */
  get explored(): boolean {
    return this.handlers.size > 0;
  }

  private wrap(instance: object, callback: (...args: unknown[]) => unknown, methodName: string): RpcHandler['run'] {
    return this.contextCreator.create(
      instance,
      callback,
      methodName,
      RPC_ARGS_METADATA,
      rpcArgsFactory,
      undefined,
      undefined,
      { guards: true, interceptors: true, filters: true },
      JSON_RPC_CONTEXT,
    );
  }

  private register(metadata: RpcMethodMetadata, run: RpcHandler['run']): void {
    if (this.handlers.has(metadata.name)) throw new Error(`JSON-RPC method ${metadata.name} is registered twice`);
    this.handlers.set(metadata.name, { ...metadata, run });
  }
}
