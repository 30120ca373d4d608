import type { Provider } from '@nestjs/common';
import { ApplicationConfig, ExternalContextCreator, ModuleRef, type NestContainer } from '@nestjs/core';
import { RpcParamsGuard } from './rpc-params.guard';

/**
 * The ExternalContextCreator JSON-RPC methods are wrapped with (RpcMethodExplorer):
 * Nest's own, except that the only global enhancer it applies is RpcParamsGuard.
 * The application's global guards, interceptors, pipes and filters (a host
 * application's APP_GUARD, say) are HTTP concerns of that application and never
 * run for a JSON-RPC call; and RpcParamsGuard, global to the methods only, runs
 * before each method's own guards as the contract needs (-32602 before 101/102)
 * without being registered as an APP_GUARD of the whole application.
 */
export const RPC_CONTEXT_CREATOR: Provider = {
  provide: ExternalContextCreator,
  useFactory: (moduleRef: ModuleRef) => ExternalContextCreator.fromContainer(withRpcEnhancers(containerOf(moduleRef))),
  inject: [ModuleRef],
};

/** Nest exposes its container to no public API; ModuleRef holds it (protected), and it is read from there once, at start. */
function containerOf(moduleRef: ModuleRef): NestContainer {
  return (moduleRef as unknown as { container: NestContainer }).container;
}

/** The container seen through an application config of JSON-RPC's own; everything else is the container's. */
function withRpcEnhancers(container: NestContainer): NestContainer {
  const config = new ApplicationConfig();
  config.useGlobalGuards(new RpcParamsGuard());
  return Object.create(container, { applicationConfig: { value: config } }) as NestContainer;
}
