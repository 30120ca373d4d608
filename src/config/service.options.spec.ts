import { ConfigError } from './app.config';
import { configFromOptions } from './service.options';

describe('JsResultServiceModule options', () => {
  it('defaults as the environment does, mounted at /rpc, migrating', () => {
    const { config, paths } = configFromOptions({ dataDir: 'memory://' });
    expect(paths).toEqual(['/rpc']);
    expect(config.database).toEqual({ kind: 'embedded', dataDir: 'memory://' });
    expect(config.migrationsRun).toBe(true);
    expect(config.poolSize).toBe(10);
  });

  it('maps every typed option onto the configuration', () => {
    const { config, paths } = configFromOptions({
      databaseUrl: 'postgres://u@h/db',
      paths: ['/a', '/b'],
      migrationsRun: false,
      poolSize: 3,
      accessLog: true,
      corsOrigins: ['https://example.com'],
      trustProxy: ['loopback'],
      workerRoutes: false,
      workerFetchAllow: ['*.example.com'],
      loginFailuresPerAddress: 7,
    });
    expect(paths).toEqual(['/a', '/b']);
    expect(config.database).toEqual({ kind: 'postgres', url: 'postgres://u@h/db' });
    expect(config.migrationsRun).toBe(false);
    expect(config.poolSize).toBe(3);
    expect(config.logs.accessLog).toBe(true);
    expect(config.corsOrigins).toEqual(['https://example.com']);
    expect(config.trustProxy).toEqual(['loopback']);
    expect(config.workerRoutes.enabled).toBe(false);
    expect(config.workerApi?.fetchAllow).toEqual(['*.example.com']);
    expect(config.login.failuresPerAddress).toBe(7);
  });

  it.each([
    [{ poolSzie: 3 }, /poolSzie should not exist/],
    [{ poolSize: '3' }, /poolSize must be an integer/],
    [{ poolSize: 0 }, /poolSize must not be less than 1/],
    [{ accessLog: 'yes' }, /accessLog must be a boolean/],
    [{ databaseUrl: 'mysql://x' }, /databaseUrl must start with postgres/],
    [{ paths: ['rpc'] }, /paths must be an absolute path/],
    [{ trustProxy: 'loopback' }, /trustProxy must be a hop count/],
    [{ metricsPort: 3000 }, /metricsPort must differ from port/],
  ])('refuses %j naming the option', (options, message) => {
    expect(() => configFromOptions(options as never)).toThrow(ConfigError);
    expect(() => configFromOptions(options as never)).toThrow(message);
  });
});
