import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { RPC_METHOD_METADATA, type RpcMethodMetadata } from './rpc-method.decorator';

export type RpcParams = Record<string, unknown>;

export interface RegisteredRpcMethod extends RpcMethodMetadata {
  invoke(params: RpcParams): Promise<unknown>;
}

/** Every `@RpcMethod` of every provider, found once at start-up. */
@Injectable()
export class RpcMethodRegistry implements OnModuleInit {
  private readonly methods = new Map<string, RegisteredRpcMethod>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || wrapper.isNotMetatype) continue;
      for (const methodName of this.scanner.getAllMethodNames(Object.getPrototypeOf(instance))) {
        const handler = instance[methodName];
        if (typeof handler !== 'function') continue;
        const metadata = this.reflector.get<RpcMethodMetadata | undefined>(RPC_METHOD_METADATA, handler);
        if (metadata) this.register(metadata, (params) => handler.call(instance, params));
      }
    }
  }

  find(name: string): RegisteredRpcMethod | undefined {
    return this.methods.get(name);
  }

  private register(metadata: RpcMethodMetadata, invoke: RegisteredRpcMethod['invoke']): void {
    if (this.methods.has(metadata.name)) throw new Error(`JSON-RPC method ${metadata.name} is registered twice`);
    this.methods.set(metadata.name, { ...metadata, invoke });
  }
}
