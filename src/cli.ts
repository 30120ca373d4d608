import 'reflect-metadata';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type { DataSource } from 'typeorm';
import packageJson from '../package.json';
import { APP_ENTITIES } from './app.entities';
import { operatorAction } from './database/audited-change';
import { DomainError } from './common/domain.error';
import { ConfigError, loadConfig } from './config/app.config';
import { DataDirLockedError } from './database/data-dir.lock';
import { dataSourceOptions, initializeDataSource, openDataSource } from './database/data-source.factory';
import { Database } from './database/database';
import { PreparedStatements } from './database/prepared-statements';
import { BackupError, backupEmbedded, restoreEmbedded } from './database/embedded-backup';
import { stringifyJson } from './json-rpc/json-rpc.codec';
import { importNodeGetCrontabs } from './crontab/crontab.import';
import { importNodeGetTokens } from './token/nodeget-import';
import { formatToken, TokenService, toTokenObject } from './token/token.service';

/**
 * The `js-result-service` command (the package's bin): `serve`, the default,
 * runs the server; the others are operator commands. Their last line of stdout
 * is the result (JSON when it is structured), so scripts can take it with
 * `tail -n 1`. Every change is audited as the operator's (origin "cli") and
 * announced to running servers.
 */

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

function postgresUrlOption(value: string): string {
  if (!/^postgres(ql)?:\/\//.test(value)) throw new InvalidArgumentError('expected a postgres:// URL of the NodeGet database');
  return value;
}

/** The commands' DataSource, told of every entity: their repositories build statements on them. */
async function withDataSource<T>(work: (dataSource: DataSource) => Promise<T>): Promise<T> {
  const dataSource: DataSource = await openDataSource(loadConfig(), undefined, APP_ENTITIES);
  try {
    return await work(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

const withTokens = <T>(work: (tokens: TokenService) => Promise<T>) => withDataSource((dataSource) => work(TokenService.on(dataSource)));

/** A command's statements run unnamed: a command is over before a parsed statement would pay off. */
const databaseOn = (dataSource: DataSource) => new Database(dataSource, new PreparedStatements());

const printLine = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
/** 64-bit integers (kept exact in token limits) are written as they were stored. */
const printJson = (value: unknown) => printLine(stringifyJson(value));

/** All of standard input, less one trailing newline. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/**
 * The new password, from standard input (piped: all of it, less one trailing
 * newline) or typed at a prompt without echo. Never from argv, which `ps` shows.
 */
async function readNewPassword(): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return readStdin();
  process.stderr.write('new password: ');
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (finish: () => void) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      finish();
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') return done(() => resolve(typed));
        if (char === '\u0003') return done(() => reject(new InvalidArgumentError('cancelled')));
        typed = char === '\u007f' ? typed.slice(0, -1) : typed + char;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

/** The password of `token create --username`: piped with --password-stdin, or typed at a prompt. */
async function accountPassword(options: { username?: string; passwordStdin?: boolean }): Promise<string | undefined> {
  if (options.passwordStdin) {
    if (options.username === undefined) throw new InvalidArgumentError('--password-stdin goes with --username');
    return readStdin();
  }
  if (options.username === undefined) return undefined;
  if (process.stdin.isTTY) return readNewPassword();
  throw new InvalidArgumentError('username and password go together: pipe the password with --password-stdin (or run at a terminal to be prompted)');
}

function addTokenCommands(program: Command): void {
  const token = program.command('token').description('API tokens; <target> is a token key or a username (a full credential works too: only its key or username part is used)');

  token
    .command('create')
    .description('create a token; prints key:secret')
    .requiredOption('--limits <json>', 'token_limit: a JSON array of {"scopes": [...], "permissions": [...]}', jsonOption)
    .option('--from <ms>', 'valid from this time (ms since epoch, inclusive)', integerOption)
    .option('--to <ms>', 'valid until this time (ms since epoch, inclusive)', integerOption)
    .option('--username <username>', 'also allow logging in as username|password; the password is typed at a prompt without echo')
    .option('--password-stdin', 'read the password for --username from standard input instead (for scripts)')
    .action(async (options: { limits: unknown; from?: number; to?: number; username?: string; passwordStdin?: boolean }) => {
      const password = await accountPassword(options);
      const input = { limits: options.limits, timestampFrom: options.from, timestampTo: options.to, username: options.username, password };
      const params = { token_limit: options.limits, timestamp_from: options.from, timestamp_to: options.to, username: options.username, password };
      const issued = await withTokens((tokens) => tokens.create(input, operatorAction('token_create', params)));
      printLine(`token id ${issued.id}`);
      printLine(formatToken(issued));
    });

  token
    .command('list')
    .description('every token, by id, as {"tokens": [...]} (never a secret or a hash)')
    .action(async () => printJson({ tokens: (await withTokens((tokens) => tokens.list())).map(toTokenObject) }));

  token
    .command('get')
    .description('one token, as JSON (never a secret or a hash)')
    .argument('<target>')
    .action(async (target: string) => printJson(toTokenObject((await withTokens((tokens) => tokens.findTarget(target))).token)));

  token
    .command('edit')
    .description("replace a token's limits whole")
    .argument('<target>')
    .requiredOption('--limits <json>', 'the new token_limit: a JSON array of {"scopes": [...], "permissions": [...]}', jsonOption)
    .action(async (target: string, options: { limits: unknown }) =>
      printJson(await withTokens((tokens) => tokens.edit(target, options.limits, operatorAction('token_edit', { target_token: target, limit: options.limits })))),
    );

  token
    .command('delete')
    .description('delete a token (the results of its workers stay)')
    .argument('<target>')
    .action(async (target: string) =>
      printJson(await withTokens((tokens) => tokens.delete(target, operatorAction('token_delete', { target_token: target })))),
    );

  token
    .command('roll')
    .description('give a token a new secret (same key); prints key:secret')
    .argument('<target>')
    .action(async (target: string) => {
      const rolled = await withTokens((tokens) => tokens.rollSecret(target, operatorAction('token_roll_token_secret', { target_token: target })));
      printLine(`${rolled.key}:${rolled.secret}`);
    });

  token
    .command('password')
    .description("set an account's password, read from standard input or typed at a prompt (never an argument)")
    .argument('<target>')
    .action(async (target: string) => {
      const password = await readNewPassword();
      printJson(
        await withTokens((tokens) =>
          tokens.changePassword(target, password, operatorAction('token_change_password', { target_token: target, new_password: password })),
        ),
      );
    });
}

function addOperationsCommands(program: Command): void {
  program
    .command('serve', { isDefault: true })
    .description('run the server (the default command; configured by the environment, see the README)')
    .action(() => {
      // Loading the entry point starts the server, exactly as `node dist/src/main.js` does.
      require('./main');
    });

  program
    .command('migrate')
    .description('apply pending migrations and exit (a release step before starting a new version); prints {"applied":[...]}')
    .action(async () => {
      const applied: string[] = [];
      // Migrations are plain SQL: no entities.
      const dataSource = await initializeDataSource(dataSourceOptions(loadConfig(), undefined, []), applied);
      await dataSource.destroy();
      printJson({ applied });
    });

  program
    .command('backup')
    .description('write the embedded database (DATA_DIR), server secrets included, to a file; the server must be stopped')
    .requiredOption('--to <file>', 'the backup file to write (mode 0600; replaced if it exists)')
    .action(async (options: { to: string }) => printJson(await backupEmbedded(loadConfig().database, options.to)));

  program
    .command('restore')
    .description('make a new or empty DATA_DIR the database a backup holds; the server must be stopped')
    .requiredOption('--from <file>', 'a file written by `backup`')
    .action(async (options: { from: string }) => printJson(await restoreEmbedded(loadConfig().database, options.from)));
}

/** `--version` on every command, so that it never runs a command instead. */
function withVersionEverywhere(command: Command): void {
  for (const sub of command.commands) {
    sub.version(packageJson.version);
    withVersionEverywhere(sub);
  }
}

function buildProgram(): Command {
  const program = new Command('js-result-service')
    .description('The JsResult service: the server, and the operator commands (all honour DATABASE_URL and DATA_DIR)')
    .version(packageJson.version)
    .exitOverride();

  addOperationsCommands(program);

  program
    .command('super-token')
    .description('the super token (id 1, username root), which may do everything')
    .command('roll')
    .description('create the super token, or replace its key and secret; prints key:secret')
    .action(async () => printLine(formatToken(await withTokens((tokens) => tokens.rollSuperToken()))));

  addTokenCommands(program);

  program
    .command('import-nodeget')
    .description(
      "copy the tokens of a NodeGet PostgreSQL database (existing keys and usernames are skipped, NodeGet's super token too), then its server crontabs and their firing records (jobs whose name is taken are skipped); prints counts as JSON",
    )
    .requiredOption('--from <url>', "the NodeGet database's postgres:// URL", postgresUrlOption)
    .action(async (options: { from: string }) =>
      printJson(
        await withDataSource(async (dataSource) => ({
          ...(await importNodeGetTokens(options.from, dataSource)),
          crontab: await importNodeGetCrontabs(options.from, databaseOn(dataSource)),
        })),
      ),
    );

  withVersionEverywhere(program);
  return program;
}

/** An operator's error, also when it comes wrapped (a locked data dir surfaces as a failure to connect). */
function operatorError(err: unknown): Error | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof DomainError || e instanceof ConfigError || e instanceof DataDirLockedError || e instanceof BackupError) return e;
  }
  return undefined;
}

function explain(err: unknown): string {
  const known = operatorError(err);
  if (known) return known.message;
  if (err instanceof InvalidArgumentError) return err.message;
  return `unexpected error: ${err instanceof Error ? err.message : String(err)}`;
}

/** Passwords were once taken as an argument; now that is refused before anything runs, naming what replaced it. */
const PASSWORD_ARGUMENT = /^--password(=|$)/;

async function main(argv: string[]): Promise<number> {
  if (argv.slice(2).some((arg) => PASSWORD_ARGUMENT.test(arg))) {
    process.stderr.write(
      'error: --password is no longer accepted (a password on the command line shows in `ps` and shell history): ' +
        'pipe it with --password-stdin, or leave it out to be prompted without echo\n',
    );
    return 1;
  }
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError && !(err instanceof InvalidArgumentError)) return err.exitCode;
    process.stderr.write(`error: ${explain(err)}\n`);
    return 1;
  }
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
