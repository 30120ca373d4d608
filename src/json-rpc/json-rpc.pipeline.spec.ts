import { Logger, UseGuards } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { IsString } from 'class-validator';
import { describeJson } from '../common/describe-json';
import { DomainError, DomainErrorCode, invalidParams } from '../common/domain.error';
import { loadConfig } from '../config/app.config';
import { ConfigModule } from '../config/config.module';
import { MetricsModule } from '../metrics/metrics.module';
import { MetricsService } from '../metrics/metrics.service';
import type { Auth } from '../token/auth';
import { TokenAuthenticator } from '../token/token.authenticator';
import { TokenGuard } from '../token/token.guard';
import { JsonRpcDispatcher } from './json-rpc.dispatcher';
import { JsonRpcModule } from './json-rpc.module';
import { RpcAuth, RpcParams } from './rpc-args.decorator';
import { RpcController } from './rpc-controller.decorator';
import { RpcMethod } from './rpc-method.decorator';
import { Param, ParsedBy } from './rpc-params.validator';
import { Positional } from './rpc-params.positions';

function parseCount(raw: unknown): number {
  if (typeof raw !== 'number' || !Number.isInteger(raw)) throw invalidParams(`count: expected an integer, got ${describeJson(raw)}`);
  return raw;
}

class ProbeParams {
  @Positional(1)
  @ParsedBy(parseCount)
  count: number;

  @Positional(0)
  @Param()
  @IsString({ message: ({ value }) => `token: expected a string, got ${describeJson(value)}` })
  token: string;
}

/** What each probe saw, so the tests can tell which steps ran. */
const seen: { params: ProbeParams; auth: Auth }[] = [];

@RpcController()
@UseGuards(TokenGuard)
class ProbeRpcController {
  @RpcMethod('probe_echo')
  echo(@RpcParams() params: ProbeParams, @RpcAuth() auth: Auth): { count: number; tokenId: number } {
    seen.push({ params, auth });
    return { count: params.count, tokenId: auth.tokenId };
  }

  @RpcMethod('probe_fail')
  fail(@RpcParams() params: ProbeParams): never {
    if (params.count === 0) throw new DomainError(DomainErrorCode.NotAcceptable, 'zero is not acceptable');
    throw new Error('connect ECONNREFUSED 10.1.2.3:5432 password=hunter2');
  }
}

/** Accepts "good:token" only; stands in for the token store, which this spec is not about. */
const authenticator = {
  authenticated: [] as string[],
  async authenticate(token: string): Promise<Auth> {
    this.authenticated.push(token);
    if (token !== 'good:token') throw new DomainError(DomainErrorCode.InvalidCredentials, 'Invalid credentials');
    return { kind: 'super', tokenId: 7, tokenKey: 'k7' };
  },
};

/** The real JSON-RPC module and pipeline around a probe controller: guards, DTOs, interceptor and filter as Nest runs them. */
describe('JSON-RPC per-call pipeline: RpcParamsGuard, TokenGuard, RpcMetricsInterceptor, JsonRpcExceptionFilter', () => {
  let moduleRef: TestingModule;
  let sut: JsonRpcDispatcher;
  const send = async (request: unknown) => JSON.parse(String((await sut.handle(JSON.stringify(request), { peer: '127.0.0.1' })) ?? 'null'));
  const callCounts = async (): Promise<Record<string, number>> => {
    const lines = (await moduleRef.get(MetricsService).render()).split('\n').filter((l) => l.startsWith('jsonrpc_calls_total{'));
    return Object.fromEntries(lines.map((line) => [line.slice(0, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1))]));
  };

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(loadConfig({})), JsonRpcModule, MetricsModule],
      providers: [ProbeRpcController, TokenGuard, { provide: TokenAuthenticator, useValue: authenticator }],
    }).compile();
    await moduleRef.init();
    sut = moduleRef.get(JsonRpcDispatcher);
  });
  afterAll(() => moduleRef.close());
  beforeEach(() => {
    seen.length = 0;
    authenticator.authenticated.length = 0;
  });

  it('validates params into the DTO, then resolves the token into Auth, then runs the handler', async () => {
    expect(await send({ jsonrpc: '2.0', id: 0, method: 'probe_echo', params: ['good:token', 3] })).toEqual({
      jsonrpc: '2.0',
      id: 0,
      result: { count: 3, tokenId: 7 },
    });
    expect(seen[0].params).toBeInstanceOf(ProbeParams);
    expect(seen[0].auth).toEqual({ kind: 'super', tokenId: 7, tokenKey: 'k7' });
  });

  it('reports bad params before looking at the token, and does not run the handler', async () => {
    const reply = await send({ jsonrpc: '2.0', id: 1, method: 'probe_echo', params: { token: 'bad:token', count: 1.5 } });
    expect(reply.error).toEqual({ code: -32602, message: 'Invalid params: count: expected an integer, got 1.5', data: { path: 'count' } });
    expect(authenticator.authenticated).toEqual([]);
    expect(seen).toEqual([]);
  });

  it('reports properties in declaration order: a bad count before a missing token', async () => {
    const reply = await send({ jsonrpc: '2.0', id: 1, method: 'probe_echo', params: { count: 'x' } });
    expect(reply.error.message).toBe('Invalid params: count: expected an integer, got "x"');
    const tokenOnly = await send({ jsonrpc: '2.0', id: 1, method: 'probe_echo', params: { count: 1 } });
    expect(tokenOnly.error.message).toBe('Invalid params: token: expected a string, got nothing');
  });

  it('refuses bad credentials in the guard (102) without running the handler', async () => {
    const reply = await send({ jsonrpc: '2.0', id: 2, method: 'probe_echo', params: ['bad:token', 1] });
    expect(reply.error).toEqual({ code: 102, message: 'Permission denied: Invalid credentials' });
    expect(authenticator.authenticated).toEqual(['bad:token']);
    expect(seen).toEqual([]);
  });

  it('ignores params the DTO does not declare, including __proto__', async () => {
    const body = '{"jsonrpc":"2.0","id":3,"method":"probe_echo","params":{"token":"good:token","count":1,"__proto__":{"count":9},"extra":true}}';
    expect(JSON.parse(String(await sut.handle(body, { peer: '127.0.0.1' }))).result).toEqual({ count: 1, tokenId: 7 });
    expect(Object.keys(seen[0].params).sort()).toEqual(['count', 'token']);
  });

  it('maps domain errors through the filter, and answers anything else -32603 with nothing of it, logged', async () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const refused = await send({ jsonrpc: '2.0', id: 4, method: 'probe_fail', params: ['good:token', 0] });
      expect(refused.error).toEqual({ code: 108, message: 'Invalid input: zero is not acceptable' });
      const bug = await send({ jsonrpc: '2.0', id: 5, method: 'probe_fail', params: ['good:token', 1] });
      expect(bug).toEqual({ jsonrpc: '2.0', id: 5, error: { code: -32603, message: 'Internal error' } });
      expect(JSON.stringify(bug)).not.toMatch(/ECONNREFUSED|hunter2|10\.1\.2\.3/);
      const loggedErrors = logged.mock.calls.map(([context]) => (context as { err?: Error }).err?.message);
      expect(loggedErrors).toContainEqual(expect.stringContaining('ECONNREFUSED'));
    } finally {
      logged.mockRestore();
    }
  });

  it('counts every call by method and outcome, including those a guard refused', async () => {
    const before = await callCounts();
    await send([
      { jsonrpc: '2.0', id: 1, method: 'probe_echo', params: ['good:token', 1] },
      { jsonrpc: '2.0', id: 2, method: 'probe_echo', params: ['bad:token', 1] },
      { jsonrpc: '2.0', id: 3, method: 'probe_echo', params: ['good:token', 'x'] },
      { jsonrpc: '2.0', method: 'probe_echo', params: ['good:token', 1] },
    ]);
    const after = await callCounts();
    const added = (code: number) => {
      const key = `jsonrpc_calls_total{method="probe_echo",code="${code}"}`;
      return (after[key] ?? 0) - (before[key] ?? 0);
    };
    expect([added(0), added(102), added(-32602)]).toEqual([2, 1, 1]);
  });
});
