import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { BoundedMap } from '../common/bounded-map';
import { DomainError, DomainErrorCode } from '../common/domain.error';
import { isStorableText } from '../common/storable-text';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import type { Auth } from './auth';
import { type HashRunner, LoginBudget, type LoginOrigin } from './login-budget';
import { readTokenLimits, type TokenLimit } from './token-limit';
import { type TokenChange, TokenChanges } from './token-changes';
import { type Credentials, parseCredentials } from '../common/credentials';
import type { Token } from './token.entity';
import {
  hashPassword,
  isNodeGetPasswordHash,
  needsRehash,
  passwordMatches,
  type ScryptParams,
  scryptParams,
  secretMatches,
  UNKNOWN_KEY_HASH,
  unknownUserPasswordHash,
} from './token.secrets';
import { isSuperToken, TokenService } from './token.service';

interface VerifiedToken {
  token: Token;
  limits: TokenLimit[];
}

interface CachedToken {
  token: Token | null;
  limits: TokenLimit[];
  fetchedAt: number;
}

interface Lookup {
  entry: CachedToken;
  fromCache: boolean;
}

type TokenCredentials = Extract<Credentials, { mode: 'token' }>;
type AccountCredentials = Extract<Credentials, { mode: 'account' }>;

const verifiedOf = (entry: CachedToken): VerifiedToken | null => (entry.token ? { token: entry.token, limits: entry.limits } : null);

const MAX_CACHED = 10_000;

const invalidCredentials = () => new DomainError(DomainErrorCode.InvalidCredentials, 'Invalid credentials');

/**
 * Resolves the `token` param of one JSON-RPC call into an Auth (for TokenGuard). It works per
 * call, not per HTTP request, because each call of a batch carries its own token.
 *
 * Tokens are cached, and dropped from the cache as soon as TokenChanges says
 * they changed (this process's own changes at once, other processes' through
 * the database's notifications). `tokenCacheTtlMs` (≤ 2 s) only bounds how
 * long a lost notification can go unnoticed. A key that is not cached, or
 * whose entry is stale, is always read from the database.
 *
 * A refusal must not tell whether the key or username exists (JSRESULT §4):
 * every refused credential costs one read of the database and, for an
 * account, one scrypt, whatever was cached. So a refusal against a cached
 * token reads it again (which also lets a secret changed a moment ago
 * elsewhere in), an unknown key or username is checked against a hash of the
 * same kind, and a password verified before is not a shortcut to a refusal.
 * Credentials holding text the database cannot store name nothing: they are
 * refused the same way without being sent there.
 */
@Injectable()
export class TokenAuthenticator implements OnModuleDestroy {
  private readonly cache = new BoundedMap<string, CachedToken>(MAX_CACHED);
  /** Proof that a password was verified against a stored hash, so scrypt runs once per change. */
  private readonly verifiedPasswords = new BoundedMap<string, Buffer>(MAX_CACHED);
  private readonly pepper = randomBytes(32);
  /**
   * Bumped on every change heard: a lookup that was already reading when a
   * change came in may have read the old row, so it is used once but not cached.
   */
  private generation = 0;
  private readonly unsubscribe: () => void;
  /** What passwords are hashed with now: a stored hash made otherwise is made again at its next login. */
  private readonly scrypt: ScryptParams;
  /** Verified against when the username is unknown, at the current parameters, as most stored hashes are. */
  private readonly unknownPasswordHash: string;

  constructor(
    private readonly tokens: TokenService,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'tokenCacheTtlMs'> & Partial<Pick<AppConfig, 'scryptCost'>>,
    changes: TokenChanges,
    private readonly budget: LoginBudget,
  ) {
    this.unsubscribe = changes.subscribe((change) => this.forget(change));
    this.scrypt = scryptParams(config.scryptCost);
    this.unknownPasswordHash = unknownUserPasswordHash(this.scrypt);
  }

  onModuleDestroy(): void {
    this.unsubscribe();
  }

  /**
   * `origin` is who logs in: a password login by a client counts against the
   * login budget (LoginBudget), checked before anything is looked up or hashed.
   */
  async authenticate(tokenParam: string, origin: LoginOrigin, now = Date.now()): Promise<Auth> {
    const credentials = parseCredentials(tokenParam);
    const storable = isStorableText(tokenParam);
    const verified =
      credentials.mode === 'token'
        ? await this.keyVerified(credentials, storable)
        : await this.budget.verify(
            credentials.username,
            origin,
            (hash) => this.accountEntryVerified(credentials, storable, hash),
            () => (storable ? this.repeatedLogin(credentials) : null),
          );
    if (verified === null) throw invalidCredentials();
    return this.authFor(verified.token, verified.limits, now);
  }

  private async keyVerified({ key, secret }: TokenCredentials, storable: boolean): Promise<VerifiedToken | null> {
    if (!storable) {
      secretMatches(secret, UNKNOWN_KEY_HASH);
      return null;
    }
    const cacheKey = `k:${key}`;
    const fetch = () => this.tokens.findByKey(key);
    const matches = (entry: CachedToken) => secretMatches(secret, entry.token?.secretHash ?? UNKNOWN_KEY_HASH) && entry.token !== null;
    const { entry, fromCache } = await this.lookup(cacheKey, fetch);
    if (matches(entry)) return verifiedOf(entry);
    if (!fromCache) return null;
    const fresh = await this.readIfChanged(cacheKey, () => this.tokens.findByKeyIfChanged(key, entry.token!.secretHash));
    return fresh !== null && matches(fresh) ? verifiedOf(fresh) : null;
  }

  private async accountEntryVerified({ username, password }: AccountCredentials, storable: boolean, hash: HashRunner): Promise<VerifiedToken | null> {
    if (!storable) {
      await hash(() => passwordMatches(password, this.unknownPasswordHash));
      return null;
    }
    const cacheKey = `u:${username}`;
    const fetch = () => this.tokens.findByUsername(username);
    const { entry, fromCache } = await this.lookup(cacheKey, fetch);
    if (await this.accountVerified(password, entry.token, hash)) return verifiedOf(entry);
    if (!fromCache) return null;
    const fresh = await this.readIfChanged(cacheKey, () => this.tokens.findByUsernameIfChanged(username, entry.token!.passwordHash));
    // Hashed again only if the password changed meanwhile (rare): a refusal costs one scrypt as a rule.
    return fresh !== null && (await this.accountVerified(password, fresh.token, hash)) ? verifiedOf(fresh) : null;
  }

  /**
   * The account, if this password is the one verified at its last check and
   * the cached row is still trusted: what a repeat needs, with no statement
   * and no hash. Anything else (a wrong or unproven password, an old kind of
   * hash, a stale entry) goes the whole way.
   */
  private repeatedLogin({ username, password }: AccountCredentials): VerifiedToken | null {
    const entry = this.cache.get(`u:${username}`);
    if (entry?.token == null || Date.now() - entry.fetchedAt >= this.config.tokenCacheTtlMs) return null;
    const storedHash = entry.token.passwordHash;
    if (!storedHash || isNodeGetPasswordHash(storedHash) || needsRehash(storedHash, this.scrypt)) return null;
    const known = this.verifiedPasswords.get(storedHash);
    return known !== undefined && timingSafeEqual(known, this.passwordProof(password)) ? verifiedOf(entry) : null;
  }

  private passwordProof(password: string): Buffer {
    return createHash('sha256').update(this.pepper).update(password).digest();
  }

  private authFor(token: Token, limits: TokenLimit[], now: number): Auth {
    if (isSuperToken(token)) return { kind: 'super', tokenId: token.id, tokenKey: token.key };
    const outsideWindow =
      (token.timestampFrom !== null && now < token.timestampFrom) ||
      (token.timestampTo !== null && now > token.timestampTo);
    return { kind: 'limited', tokenId: token.id, tokenKey: token.key, limits: outsideWindow ? [] : limits };
  }

  private async lookup(cacheKey: string, fetch: () => Promise<Token | null>): Promise<Lookup> {
    const cached = this.cache.get(cacheKey);
    if (cached && Date.now() - cached.fetchedAt < this.config.tokenCacheTtlMs) return { entry: cached, fromCache: true };
    return { entry: await this.read(cacheKey, fetch), fromCache: false };
  }

  /**
   * Re-reads a cached token before refusing it, in case it changed a moment
   * ago elsewhere: null (and the cache left as it is) when it did not.
   */
  private async readIfChanged(cacheKey: string, fetchChanged: () => Promise<Token | null>): Promise<CachedToken | null> {
    const generation = this.generation;
    const token = await fetchChanged();
    return token === null ? null : this.entryRead(cacheKey, token, generation);
  }

  /** Reads the token from the database. */
  private async read(cacheKey: string, fetch: () => Promise<Token | null>): Promise<CachedToken> {
    const generation = this.generation;
    return this.entryRead(cacheKey, await fetch(), generation);
  }

  /** What was read, cached unless a change came in while it was being read. */
  private entryRead(cacheKey: string, token: Token | null, generation: number): CachedToken {
    const entry: CachedToken = { token, limits: token ? readTokenLimits(token.limits) : [], fetchedAt: Date.now() };
    if (generation === this.generation) this.remember(cacheKey, entry);
    return entry;
  }

  private remember(cacheKey: string, entry: CachedToken): void {
    // Unknown keys are not kept: a token created a moment later must be found at once.
    if (entry.token) this.cache.set(cacheKey, entry);
    else this.cache.delete(cacheKey);
  }

  private forget(change: TokenChange): void {
    this.generation++;
    if (change.kind === 'unknown') {
      this.cache.clear();
      return;
    }
    for (const [cacheKey, entry] of this.cache.entries()) {
      if (entry.token?.id === change.tokenId) this.cache.delete(cacheKey);
    }
  }

  /**
   * NodeGet stored passwords as its secret hash (SHA-256 of `NODEGET` +
   * password); an imported account's first successful login replaces that
   * with scrypt. A wrong password still costs one scrypt, like every other
   * failed login, so the hash's kind cannot be told from the timing.
   */
  private async accountVerified(password: string, token: Token | null, hash: HashRunner): Promise<boolean> {
    const storedHash = token?.passwordHash ?? null;
    if (token && storedHash && isNodeGetPasswordHash(storedHash)) {
      if (secretMatches(password, storedHash)) {
        await this.rehash(token, password, hash);
        return true;
      }
      await hash(() => passwordMatches(password, this.unknownPasswordHash));
      return false;
    }
    return this.passwordVerified(password, token, hash);
  }

  private async passwordVerified(password: string, token: Token | null, hash: HashRunner): Promise<boolean> {
    const storedHash = token?.passwordHash ?? null;
    const proof = this.passwordProof(password);
    const known = storedHash ? this.verifiedPasswords.get(storedHash) : undefined;
    let ok = known !== undefined && timingSafeEqual(known, proof);
    if (!ok) {
      // A password verified before must not make a wrong one cheaper to refuse than an unknown username.
      ok = await hash(() => passwordMatches(password, storedHash ?? this.unknownPasswordHash));
      if (ok && storedHash) this.verifiedPasswords.set(storedHash, proof);
    }
    if (ok && token && storedHash && needsRehash(storedHash, this.scrypt)) await this.rehash(token, password, hash);
    return ok && storedHash !== null;
  }

  /**
   * Stores the verified password's hash at the current parameters (its hash
   * waits for a slot like any other). Best effort: when the write fails, the
   * login still succeeds and the next one tries again.
   */
  private async rehash(token: Token, password: string, hash: HashRunner): Promise<void> {
    try {
      await this.tokens.upgradePasswordHash(token, await hash(() => hashPassword(password, this.scrypt)));
    } catch {
      // The old hash stays valid; nothing is lost but the upgrade.
    }
  }
}
