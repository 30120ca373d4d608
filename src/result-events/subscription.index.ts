import type { Filter } from '../js-result/conditions/condition.types';

/** What the index needs of a subscription: its conditions. */
export interface Indexed {
  readonly filters: readonly Filter[];
}

/** The worker a subscription's conditions require, if any: it can match no other worker's rows. */
function requiredWorker(filters: readonly Filter[]): string | undefined {
  for (const filter of filters) if (filter.kind === 'js_worker_name') return filter.value;
  return undefined;
}

/**
 * Subscriptions by the worker their conditions name, and those that name
 * none. A finished row is tested only against the subscriptions of its own
 * worker and the ones that name none, so a thousand subscriptions to other
 * workers cost a row nothing. Each list keeps the order subscriptions were added.
 */
export class SubscriptionIndex<S extends Indexed> {
  private readonly byWorker = new Map<string, Set<S>>();
  private readonly anyWorker = new Set<S>();

  add(subscription: S): void {
    const worker = requiredWorker(subscription.filters);
    if (worker === undefined) {
      this.anyWorker.add(subscription);
      return;
    }
    let named = this.byWorker.get(worker);
    if (named === undefined) this.byWorker.set(worker, (named = new Set()));
    named.add(subscription);
  }

  remove(subscription: S): void {
    const worker = requiredWorker(subscription.filters);
    if (worker === undefined) {
      this.anyWorker.delete(subscription);
      return;
    }
    const named = this.byWorker.get(worker);
    if (named?.delete(subscription) && named.size === 0) this.byWorker.delete(worker);
  }

  get size(): number {
    let size = this.anyWorker.size;
    for (const named of this.byWorker.values()) size += named.size;
    return size;
  }

  /**
   * The subscriptions that may match a row of `worker` (their conditions still
   * decide), as a copy: deliveries yield between sends, and subscriptions
   * come and go meanwhile.
   */
  candidates(worker: string): S[] {
    const named = this.byWorker.get(worker);
    return named === undefined ? [...this.anyWorker] : [...named, ...this.anyWorker];
  }
}
