import { createHash, randomInt, timingSafeEqual, randomBytes } from 'node:crypto';
import { DEFAULT_SCRYPT_COST } from '../config/app.config';
import { passwordHashThread } from './password-hash.thread';

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

/** scrypt's parameters: cost N (a power of two), block size r, parallelism p, and the hash's length in bytes. */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
  keylen: number;
}


/** The parameters new hashes get at a cost of log2(N). */
export function scryptParams(cost: number = DEFAULT_SCRYPT_COST): ScryptParams {
  return { N: 2 ** cost, r: 8, p: 1, keylen: 32 };
}

/** A stored hash needing more memory than SCRYPT_COST's highest (20) gives is refused rather than computed. */
const MAX_STORED_MEMORY = 128 * 2 ** 20 * 8;
const MAX_STORED_P = 16;

/**
 * scrypt needs about 128·N·r bytes, more than Node's default bound (32 MiB)
 * from N = 2^15 at r = 8; twice that plus a margin covers OpenSSL's own accounting.
 */
const maxmemFor = ({ N, r, p }: ScryptParams) => 2 * 128 * r * (N + p + 2) + 1024 * 1024;

/** On the hashing thread, below the priority of everything else the process does (see PasswordHashThread). */
const scryptWith = (password: string, salt: Buffer, params: ScryptParams) =>
  passwordHashThread.scrypt(password, salt, params.keylen, { N: params.N, r: params.r, p: params.p, maxmem: maxmemFor(params) });

/** Passwords are chosen by people, so they get a slow salted hash; its parameters are stored with it. */
export async function hashPassword(password: string, params: ScryptParams = scryptParams()): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptWith(password, salt, params);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

interface StoredScrypt {
  params: ScryptParams;
  salt: Buffer;
  hash: Buffer;
}

/** `scrypt$N$r$p$salt$hash`, or null when the text is not such a hash with sane parameters. */
function parseScryptHash(stored: string): StoredScrypt | null {
  const [scheme, n, r, p, salt, hash, ...rest] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash || rest.length > 0) return null;
  const [N, R, P] = [n, r, p].map((text) => (/^[1-9][0-9]{0,9}$/.test(text ?? '') ? Number(text) : 0));
  const expected = Buffer.from(hash, 'base64');
  const powerOfTwo = N > 1 && (N & (N - 1)) === 0;
  if (!powerOfTwo || R < 1 || 128 * N * R > MAX_STORED_MEMORY || P < 1 || P > MAX_STORED_P || expected.length === 0) return null;
  return { params: { N, r: R, p: P, keylen: expected.length }, salt: Buffer.from(salt, 'base64'), hash: expected };
}

export async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const parsed = parseScryptHash(stored);
  if (parsed === null) return false;
  return constantTimeEqual(await scryptWith(password, parsed.salt, parsed.params), parsed.hash);
}

/** Whether a stored scrypt hash was made with other parameters than `current` (and is to be hashed again). */
export function needsRehash(stored: string, current: ScryptParams): boolean {
  const parsed = parseScryptHash(stored);
  if (parsed === null) return false;
  const { N, r, p, keylen } = parsed.params;
  return N !== current.N || r !== current.r || p !== current.p || keylen !== current.keylen;
}

/** Verified against when the username is unknown, so a caller cannot time the difference: at the current parameters. */
export function unknownUserPasswordHash(params: ScryptParams = scryptParams()): string {
  return ['scrypt', params.N, params.r, params.p, 'AAAAAAAAAAAAAAAAAAAAAA==', Buffer.alloc(params.keylen).toString('base64')].join('$');
}
