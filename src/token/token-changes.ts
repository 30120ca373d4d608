import { Injectable } from '@nestjs/common';

/** A stored token changed (its id), or changes may have been missed and nothing cached can be trusted. */
export type TokenChange = { kind: 'token'; tokenId: number } | { kind: 'unknown' };

type Listener = (change: TokenChange) => void;

/**
 * Where this process hears that tokens changed: from its own writes at once,
 * and from the database's notifications for everyone else's (see
 * TokenChangesListener). Caches subscribe and drop what changed.
 */
@Injectable()
export class TokenChanges {
  private readonly listeners = new Set<Listener>();

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  changed(tokenId: number): void {
    this.emit({ kind: 'token', tokenId });
  }

  /** Notifications may have been lost (a reconnect): everything cached must be read again. */
  missed(): void {
    this.emit({ kind: 'unknown' });
  }

  private emit(change: TokenChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
