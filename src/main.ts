import 'reflect-metadata';
import { loadConfig } from './config/app.config';
import { startEmbeddedEarly } from './database/pglite.head-start';

/**
 * The last resort once serving: a failure that nothing caught is logged and
 * the process goes on serving everyone else. Every call and every delivery
 * catches its own failures; what reaches here is a bug, and ending the
 * process for it would end every caller's connection and every waiter.
 */
async function keepServing(): Promise<void> {
  const { Logger: NestLogger } = await import('@nestjs/common');
  const logger = new NestLogger('Process');
  process.on('unhandledRejection', (reason: unknown) => logger.error({ err: reason }, 'unhandled rejection; still serving'));
  process.on('uncaughtException', (error: Error) => logger.error({ err: error }, 'uncaught exception; still serving'));
}

async function bootstrap(): Promise<void> {
  const config = loadConfig();
  // The embedded engine gets ready on its own thread while this one loads the app's modules below.
  if (config.database.kind === 'embedded') await startEmbeddedEarly(config.database.dataDir);
  const [{ Logger }, { createApp }, { provisionSuperToken, superTokenFile }, { formatToken, TokenService }] = await Promise.all([
    import('nestjs-pino'),
    import('./app.factory'),
    import('./token/super-token.file'),
    import('./token/token.service'),
  ]);
  const fromFile = config.superTokenFile === undefined ? undefined : superTokenFile(config.superTokenFile);
  const app = await createApp(config);
  const logger = app.get(Logger);
  const superToken = await provisionSuperToken(app.get(TokenService), fromFile).catch(async (err: unknown) => {
    await app.close();
    throw err;
  });
  if (superToken.printed) {
    // Printed once, on the console only: the secret is not stored anywhere it could be read back.
    process.stdout.write(
      `\nSuper token created. Keep it safe; it is shown only this once:\n${formatToken(superToken.printed)}\n\n`,
    );
  }
  if (superToken.writtenTo) logger.log(`Super token created and written to ${superToken.writtenTo} (SUPER_TOKEN_FILE)`);
  await app.listen(config.port, config.host);
  await keepServing();
  const where = config.database.kind === 'embedded' ? `embedded database in ${config.database.dataDir}` : 'PostgreSQL';
  logger.log(`JSON-RPC listening on http://${config.host}:${config.port}/ (and /nodeget/rpc), ${where}`);
}

bootstrap().catch((err: unknown) => {
  process.stderr.write(`Failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
