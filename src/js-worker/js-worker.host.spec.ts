import { Logger } from '@nestjs/common';
import { type AppConfig, DEFAULT_WORKER_API_SETTINGS } from '../config/app.config';
import type { JsonRpcDispatcher } from '../json-rpc/json-rpc.dispatcher';
import type { WorkerFetch } from './js-worker.fetch';
import { type HostedRun, JsWorkerHost } from './js-worker.host';

describe(JsWorkerHost.name, () => {
  const run: HostedRun = { workerName: 'w', jsResultId: 42, auth: undefined, depth: 0, chain: { inlineCalls: 0 } };
  const sut = new JsWorkerHost(
    { workerApi: { ...DEFAULT_WORKER_API_SETTINGS, logLevel: 'debug' } } as unknown as AppConfig,
    {} as JsonRpcDispatcher,
    { budget: () => ({ calls: 0, bytes: 0 }) } as unknown as WorkerFetch,
  );

  afterEach(() => jest.restoreAllMocks());

  it('hands the sandbox the log level and whether fetch exists', () => {
    expect(sut.settings).toEqual({ logLevel: 'debug', fetchEnabled: false });
  });

  it.each([
    ['trace', 'verbose'],
    ['debug', 'debug'],
    ['info', 'log'],
    ['warn', 'warn'],
    ['error', 'error'],
  ] as const)('writes a %s line through the logger (%s) with the worker, the namespace and the run id', (level, method) => {
    const write = jest.spyOn(Logger.prototype, method).mockImplementation(() => undefined);

    sut.forRun(run, () => Promise.reject(new Error('unused'))).log({ level, namespace: 'ns', message: 'hello' });

    expect(write).toHaveBeenCalledWith({ worker: 'w', namespace: 'ns', js_result_id: 42 }, 'hello');
  });
});
