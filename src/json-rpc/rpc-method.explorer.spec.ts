import { Injectable, type Provider, Scope } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { loadConfig } from '../config/app.config';
import { ConfigModule } from '../config/config.module';
import { MetricsModule } from '../metrics/metrics.module';
import { JsonRpcModule } from './json-rpc.module';
import { RpcParams } from './rpc-args.decorator';
import { RpcController } from './rpc-controller.decorator';
import { RpcMethod } from './rpc-method.decorator';
import { RpcMethodExplorer } from './rpc-method.explorer';
import { Positional } from './rpc-params.positions';
import { Param } from './rpc-params.validator';

/** Starts the JSON-RPC module with `providers`; resolves to the explorer, or rejects with why it would not start. */
async function start(providers: Provider[]): Promise<RpcMethodExplorer> {
  const moduleRef = await Test.createTestingModule({
    imports: [ConfigModule.forRoot(loadConfig({ LOG_LEVEL: 'silent' })), JsonRpcModule, MetricsModule],
    providers,
  }).compile();
  moduleRef.useLogger(false);
  try {
    await moduleRef.init();
    return moduleRef.get(RpcMethodExplorer);
  } finally {
    await moduleRef.close();
  }
}

class ProbeParams {
  @Positional(1)
  @Param()
  name: string;

  @Positional(0)
  @Param()
  token: string;
}

@RpcController()
class SingletonRpcController {
  @RpcMethod('probe_named')
  named(@RpcParams() params: ProbeParams): string {
    return params.name;
  }

  @RpcMethod('probe_bare')
  bare(): number {
    return 1;
  }
}

@Injectable({ scope: Scope.REQUEST })
@RpcController()
class RequestScopedRpcController {
  @RpcMethod('probe_per_request')
  call(): number {
    return 1;
  }
}

@Injectable({ scope: Scope.TRANSIENT })
@RpcController()
class TransientRpcController {
  @RpcMethod('probe_transient')
  call(): number {
    return 1;
  }
}

@Injectable({ scope: Scope.REQUEST })
class PerRequestThing {}

/** Default scope itself, but Nest makes it per request through its dependency. */
@RpcController()
class ImplicitlyRequestScopedRpcController {
  constructor(readonly thing: PerRequestThing) {}

  @RpcMethod('probe_implicit')
  call(): number {
    return 1;
  }
}

class MisplacedParams {
  @Positional(0)
  @Param()
  token: string;

  @Param()
  name: string;
}

@RpcController()
class MisplacedRpcController {
  @RpcMethod('probe_misplaced')
  call(@RpcParams() params: MisplacedParams): string {
    return params.name;
  }
}

describe(RpcMethodExplorer.name, () => {
  it("registers each method with its DTO's positional params, and none for a method without a DTO", async () => {
    const sut = await start([SingletonRpcController]);
    const probes = sut.registered().filter((method) => method.name.startsWith('probe_'));
    expect(probes.map(({ name, params }) => ({ name, params }))).toEqual([
      { name: 'probe_named', params: ['token', 'name'] },
      { name: 'probe_bare', params: [] },
    ]);
  });

  it('refuses to start with a request-scoped JSON-RPC controller, naming it', async () => {
    await expect(start([RequestScopedRpcController])).rejects.toThrow(
      'JSON-RPC controller RequestScopedRpcController is request-scoped or depends on a request-scoped provider: its methods are bound once, at start, so it must be a singleton (Scope.DEFAULT) whose dependencies are all singletons',
    );
  });

  it('refuses a controller that is request-scoped through a dependency', async () => {
    await expect(start([PerRequestThing, ImplicitlyRequestScopedRpcController])).rejects.toThrow(
      'JSON-RPC controller ImplicitlyRequestScopedRpcController is request-scoped or depends on a request-scoped provider',
    );
  });

  it('refuses a transient controller', async () => {
    await expect(start([TransientRpcController])).rejects.toThrow('JSON-RPC controller TransientRpcController is transient');
  });

  it('refuses to start when a DTO leaves a param without a position, naming the method', async () => {
    await expect(start([MisplacedRpcController])).rejects.toThrow(
      'JSON-RPC method probe_misplaced (params MisplacedParams): MisplacedParams.name (param "name") has no position in positional calls: give it @Positional(n)',
    );
  });
});
