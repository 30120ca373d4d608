import 'reflect-metadata';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type { DataSource } from 'typeorm';
import { DomainError } from './common/domain.error';
import { ConfigError, loadConfig } from './config/app.config';
import { DataDirLockedError } from './database/data-dir.lock';
import { openDataSource } from './database/data-source.factory';
import { formatToken, TokenService } from './token/token.service';

/** Operator commands. The last line of stdout is the result, so scripts can take it with `tail -n 1`. */

function integerOption(value: string): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError('expected an integer timestamp in milliseconds');
  }
  return n;
}

function jsonOption(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw new InvalidArgumentError('expected JSON, e.g. \'[{"scopes":["global"],"permissions":[{"js_result":{"read":"*"}}]}]\'');
  }
}

async function withTokens<T>(work: (tokens: TokenService) => Promise<T>): Promise<T> {
  const dataSource: DataSource = await openDataSource(loadConfig());
  try {
    return await work(new TokenService(dataSource));
  } finally {
    await dataSource.destroy();
  }
}

function buildProgram(): Command {
  const program = new Command('js-result-cli')
    .description('Manage the tokens of the JsResult service (honours DATABASE_URL and DATA_DIR)')
    .exitOverride();

  program
    .command('super-token')
    .description('the super token (id 1, username root), which may do everything')
    .command('roll')
    .description('create the super token, or replace its key and secret; prints key:secret')
    .action(async () => {
      const issued = await withTokens((tokens) => tokens.rollSuperToken());
      process.stdout.write(`${formatToken(issued)}\n`);
    });

  program
    .command('token')
    .description('API tokens')
    .command('create')
    .description('create a token; prints key:secret')
    .requiredOption('--limits <json>', 'token_limit: a JSON array of {"scopes": [...], "permissions": [...]}', jsonOption)
    .option('--from <ms>', 'valid from this time (ms since epoch, inclusive)', integerOption)
    .option('--to <ms>', 'valid until this time (ms since epoch, inclusive)', integerOption)
    .option('--username <username>', 'also allow logging in as username|password')
    .option('--password <password>', 'the password for --username')
    .action(async (options: { limits: unknown; from?: number; to?: number; username?: string; password?: string }) => {
      const issued = await withTokens((tokens) =>
        tokens.create({
          limits: options.limits,
          timestampFrom: options.from,
          timestampTo: options.to,
          username: options.username,
          password: options.password,
        }),
      );
      process.stdout.write(`token id ${issued.id}\n${formatToken(issued)}\n`);
    });

  return program;
}

function explain(err: unknown): string {
  if (err instanceof DomainError || err instanceof ConfigError || err instanceof DataDirLockedError) return err.message;
  return `unexpected error: ${err instanceof Error ? err.message : String(err)}`;
}

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    process.stderr.write(`error: ${explain(err)}\n`);
    return 1;
  }
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
