import { readFileSync, writeFileSync } from 'node:fs';
import { ConfigError } from '../config/app.config';
import { isTokenKey } from '../common/credentials';
import { KEY_LENGTH, randomAlphanumeric, SECRET_LENGTH } from './token.secrets';
import type { IssuedToken, TokenService } from './token.service';

/** What the start did about the super token; `printed` is set only when nobody else can know it. */
export interface SuperTokenOutcome {
  /** Created now, with no SUPER_TOKEN_FILE: the one chance to show it. */
  printed?: IssuedToken;
  /** Where it was written (SUPER_TOKEN_FILE did not exist). */
  writtenTo?: string;
}

const problem = (file: string, what: string) => new ConfigError(`SUPER_TOKEN_FILE: ${file} ${what}`);

/** The file's `key:secret` (one trailing newline allowed), checked; never echoed in a message. */
function readSuperTokenFile(file: string): { key: string; secret: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw problem(file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const credential = text.replace(/\r?\n$/, '');
  if (credential.trim() === '') throw problem(file, 'is empty');
  const colon = credential.indexOf(':');
  const key = credential.slice(0, colon);
  const secret = credential.slice(colon + 1);
  if (colon < 0 || !isTokenKey(key) || !/^[\x21-\x7e]{16,256}$/.test(secret)) {
    throw problem(file, `must hold key:secret (a ${KEY_LENGTH}-character alphanumeric key, a secret of 16 to 256 printable characters)`);
  }
  return { key, secret };
}

/** The super token SUPER_TOKEN_FILE holds, and whether this start wrote it there. */
export interface SuperTokenFile {
  file: string;
  key: string;
  secret: string;
  created: boolean;
}

/**
 * Reads SUPER_TOKEN_FILE, or creates it (mode 0600, never overwriting) with a
 * new super token. Done before the database is opened, so that a file that
 * cannot be used stops the start at once; and the file is written before the
 * database, so a failure between the two is mended at the next start.
 */
export function superTokenFile(file: string): SuperTokenFile {
  const fresh = { key: randomAlphanumeric(KEY_LENGTH), secret: randomAlphanumeric(SECRET_LENGTH) };
  try {
    writeFileSync(file, `${fresh.key}:${fresh.secret}\n`, { flag: 'wx', mode: 0o600 });
    return { file, ...fresh, created: true };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // EEXIST: it exists (perhaps just made by an instance starting beside this one) and is read.
    if (code !== 'EEXIST') throw problem(file, `does not exist and cannot be created (${code ?? 'error'})`);
  }
  return { file, ...readSuperTokenFile(file), created: false };
}

/**
 * The super token at start. Without SUPER_TOKEN_FILE it is created once and
 * shown once. With it, the file is the truth: its `key:secret` becomes the
 * super token, and a new one is never printed.
 */
export async function provisionSuperToken(tokens: TokenService, fromFile: SuperTokenFile | undefined): Promise<SuperTokenOutcome> {
  if (fromFile === undefined) {
    const created = await tokens.ensureSuperToken();
    return created ? { printed: created } : {};
  }
  await tokens.setSuperToken(fromFile.key, fromFile.secret);
  return fromFile.created ? { writtenTo: fromFile.file } : {};
}
