import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, ExternalContextCreator, MetadataScanner, Reflector } from '@nestjs/core';
import { RPC_ARGS_METADATA, rpcArgsFactory, rpcParamsClass } from './rpc-args.decorator';
import { JSON_RPC_CONTEXT, type RpcCall } from './rpc-call';
import { RPC_CONTROLLER_METADATA } from './rpc-controller.decorator';
import { RPC_METHOD_METADATA, type RpcMethodDeclaration, type RpcMethodMetadata } from './rpc-method.decorator';
import { positionalParams } from './rpc-params.positions';

/** A JSON-RPC method bound to its handler, wrapped in Nest's guards, interceptors, pipes and filters. */
export interface RpcHandler extends RpcMethodMetadata {
  run(call: RpcCall): Promise<unknown>;
}

/** A provider as DiscoveryService lists it (Nest's InstanceWrapper, whose type @nestjs/core does not export). */
type DiscoveredProvider = ReturnType<DiscoveryService['getProviders']>[number];

/**
 * Finds every `@RpcMethod` of every `@RpcController()` once, at start-up, and wraps
 * each in Nest's pipeline for external contexts (as @nestjs/graphql does for
 * resolvers), so a call is guarded, intercepted and filtered like an HTTP
 * route, with its own execution context. The wrapping is built once per
 * method, not per call, on the controller's one instance: a controller that
 * Nest builds per request or per consumer is refused at start.
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
      if (!wrapper.metatype || !this.reflector.get<boolean | undefined>(RPC_CONTROLLER_METADATA, wrapper.metatype)) continue;
      refuseUnlessStatic(wrapper);
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object') continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const callback = instance[methodName];
        if (typeof callback !== 'function') continue;
        const declaration = this.reflector.get<RpcMethodDeclaration | undefined>(RPC_METHOD_METADATA, callback);
        if (declaration === undefined) continue;
        const metadata = { ...declaration, params: positionalParamsOf(declaration, prototype, methodName) };
        this.register(metadata, this.wrap(instance, callback as (...args: unknown[]) => unknown, methodName));
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

/**
 * Nest gives a request-scoped or transient provider (or one depending on a
 * request-scoped provider) an unfinished placeholder as its static instance,
 * and builds the real ones later, per request or per consumer. Methods bound
 * once at start would run on the placeholder, without its dependencies.
 */
function refuseUnlessStatic(wrapper: DiscoveredProvider): void {
  if (!wrapper.isTransient && wrapper.isDependencyTreeStatic()) return;
  const why = wrapper.isTransient ? 'is transient' : 'is request-scoped or depends on a request-scoped provider';
  throw new Error(
    `JSON-RPC controller ${wrapper.metatype?.name ?? String(wrapper.name)} ${why}: its methods are bound once, at start, so it must be a singleton (Scope.DEFAULT) whose dependencies are all singletons`,
  );
}

/** The positional order of a method's params, from its DTO; a DTO whose positions do not add up stops the start. */
function positionalParamsOf(declaration: RpcMethodDeclaration, prototype: object, methodName: string): readonly string[] {
  const dtoClass = rpcParamsClass(prototype, methodName);
  if (dtoClass === undefined) return [];
  try {
    return positionalParams(dtoClass);
  } catch (error) {
    throw new Error(`JSON-RPC method ${declaration.name} (params ${dtoClass.name}): ${(error as Error).message}`);
  }
}
