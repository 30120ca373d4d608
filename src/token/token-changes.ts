import { Injectable } from '@nestjs/common';

/** A stored token changed (its id), or changes may have been missed and nothing cached can be trusted. */
export type TokenChange = { kind: 'token'; tokenId: number } | { kind: 'unknown' };

type Listener = (change: TokenChange) => void;

/**
 * How long a change still waits after hearing its own echo. The other
 * instances' listening sessions were signalled at the same commit, but on a
 * busy machine their backends and processes may run a few milliseconds after
 * this one's: seen once in CI, where another instance answered the very next
 * call with the limits from before an edit.
 */
export const ECHO_SETTLE_MS = 25;

/**
 * Where this process hears that tokens changed: from its own writes at once,
 * and from the database's notifications for everyone else's (see
 * TokenChangesListener). Caches subscribe and drop what changed.
 */
@Injectable()
export class TokenChanges {
  private readonly listeners = new Set<Listener>();
  /** Whether the database's announcements reach this process (TokenChangesListener is listening). */
  private hearing = false;
  private readonly echoes = new Map<number, Set<() => void>>();

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A change this process made: its caches drop the token at once. */
  changedHere(tokenId: number): void {
    this.emit({ kind: 'token', tokenId });
  }

  /** A change the database announced (anyone's, this process's own included). */
  changed(tokenId: number): void {
    this.emit({ kind: 'token', tokenId });
    const waiting = this.echoes.get(tokenId);
    this.echoes.delete(tokenId);
    if (waiting) setTimeout(() => waiting.forEach((resolve) => resolve()), ECHO_SETTLE_MS).unref();
  }

  /** Set by the listener as it connects and loses its connection. */
  setHearing(hearing: boolean): void {
    this.hearing = hearing;
  }

  /**
   * Resolves ECHO_SETTLE_MS after the database's announcement of this token's
   * change has come back to this process (or after `timeoutMs`, or at once
   * when it is not listening). PostgreSQL signals every listening session at
   * the same commit, so a change that waits for its own echo before answering
   * is, in practice, already heard by every other instance when its caller
   * makes the next call.
   */
  echoed(tokenId: number, timeoutMs: number): Promise<void> {
    if (!this.hearing) return Promise.resolve();
    return new Promise((resolve) => {
      const waiting = this.echoes.get(tokenId) ?? new Set<() => void>();
      const done = () => {
        clearTimeout(timer);
        waiting.delete(done);
        // A wait that timed out leaves no empty entry behind for its token.
        if (waiting.size === 0 && this.echoes.get(tokenId) === waiting) this.echoes.delete(tokenId);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs).unref();
      waiting.add(done);
      this.echoes.set(tokenId, waiting);
    });
  }

  /** Notifications may have been lost (a reconnect): everything cached must be read again. */
  missed(): void {
    this.emit({ kind: 'unknown' });
  }

  private emit(change: TokenChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
