import { Test, type TestingModule } from '@nestjs/testing';
import { loadConfig } from '../config/app.config';
import { ConfigModule } from '../config/config.module';
import { MetricsModule } from '../metrics/metrics.module';
import { JsonRpcDispatcher } from './json-rpc.dispatcher';
import { JsonRpcModule } from './json-rpc.module';
import { RpcController } from './rpc-controller.decorator';
import { RpcMethod } from './rpc-method.decorator';

/** A value JSON.stringify cannot write: it recurses past the stack. */
function nested(depth: number): unknown[] {
  let value: unknown[] = [];
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

@RpcController()
class UnwritableRpcController {
  @RpcMethod('probe_unwritable')
  unwritable(): unknown {
    return nested(20_000);
  }

  @RpcMethod('probe_fine')
  fine(): number {
    return 42;
  }
}

/** A call whose result cannot be written fails alone: its own -32603 under its own id. */
describe(JsonRpcDispatcher.name, () => {
  let moduleRef: TestingModule;
  let sut: JsonRpcDispatcher;
  const send = async (request: unknown) => String(await sut.handle(JSON.stringify(request), { peer: '127.0.0.1' }));

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(loadConfig({ LOG_LEVEL: 'silent' })), JsonRpcModule, MetricsModule],
      providers: [UnwritableRpcController],
    }).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    sut = moduleRef.get(JsonRpcDispatcher);
  });

  afterAll(() => moduleRef.close());

  it('answers a call whose result cannot be written with -32603 under its id, and the rest of its batch as usual', async () => {
    const reply = JSON.parse(
      await send([
        { jsonrpc: '2.0', id: 'a', method: 'probe_fine' },
        { jsonrpc: '2.0', id: 'b', method: 'probe_unwritable' },
        { jsonrpc: '2.0', id: 9007199254740993n.toString(), method: 'probe_fine' },
      ]),
    );
    expect(reply).toEqual([
      { jsonrpc: '2.0', id: 'a', result: 42 },
      { jsonrpc: '2.0', id: 'b', error: { code: -32603, message: 'Internal error' } },
      { jsonrpc: '2.0', id: '9007199254740993', result: 42 },
    ]);
  });

  it('answers such a single call under its own id, not null', async () => {
    expect(JSON.parse(await send({ jsonrpc: '2.0', id: 7, method: 'probe_unwritable' }))).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: { code: -32603, message: 'Internal error' },
    });
  });

  it('sends nothing for such a notification', async () => {
    expect(await sut.handle(JSON.stringify({ jsonrpc: '2.0', method: 'probe_unwritable' }), { peer: '127.0.0.1' })).toBeUndefined();
  });
});
