import { createHash, randomInt, scrypt, timingSafeEqual, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: object) => Promise<Buffer>;

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export const KEY_LENGTH = 16;
export const SECRET_LENGTH = 32;

/** Uniformly random alphanumerics from the OS CSPRNG (randomInt has no modulo bias). */
export function randomAlphanumeric(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return out;
}

/** NodeGet's secret hash: hex SHA-256 of `NODEGET` followed by the secret. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update('NODEGET').update(secret).digest('hex');
}

function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function secretMatches(secret: string, storedHash: string): boolean {
  return constantTimeEqual(Buffer.from(hashSecret(secret), 'hex'), Buffer.from(storedHash, 'hex'));
}

/** A password hash as NodeGet stores it: its secret hash, 64 hex digits (scrypt hashes start with `scrypt$`). */
export function isNodeGetPasswordHash(stored: string): boolean {
  return /^[0-9a-f]{64}$/i.test(stored);
}

/** A hash no secret produces: checked against when the key is unknown, so both paths cost the same. */
export const UNKNOWN_KEY_HASH = '0'.repeat(64);

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };

/** Passwords are chosen by people, so they get a slow salted hash. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

export async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 64 * 1024 * 1024,
  });
  return constantTimeEqual(actual, expected);
}

/** Verified against when the username is unknown, so a caller cannot time the difference. */
export const UNKNOWN_USER_PASSWORD_HASH = `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=`;
