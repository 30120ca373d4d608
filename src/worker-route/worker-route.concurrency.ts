/** Gives back the place a request took. Idempotent. */
export type Release = () => void;

/**
 * Route requests running at once, over all routes and per route. A request
 * over either limit is refused at once rather than queued: the runner pool
 * has its own queue, and a route request waiting here would only hold its body
 * longer. Entries of routes with nothing running are dropped, so the map holds
 * at most `maxTotal` names.
 */
export class RouteConcurrency {
  private total = 0;
  private readonly perRoute = new Map<string, number>();

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerRoute: number,
  ) {}

  /** A place for one request of this route, or undefined when a limit is reached. */
  tryAcquire(route: string): Release | undefined {
    const running = this.perRoute.get(route) ?? 0;
    if (this.total >= this.maxTotal || running >= this.maxPerRoute) return undefined;
    this.total++;
    this.perRoute.set(route, running + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.perRoute.get(route) ?? 1) - 1;
      if (left === 0) this.perRoute.delete(route);
      else this.perRoute.set(route, left);
    };
  }

  /** Requests running now, over all routes. */
  get running(): number {
    return this.total;
  }

  /** Requests of one route running now. */
  runningOf(route: string): number {
    return this.perRoute.get(route) ?? 0;
  }
}
