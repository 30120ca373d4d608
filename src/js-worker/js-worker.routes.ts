import { Injectable } from '@nestjs/common';
import type { JsWorker } from './js-worker.entity';
import { JsWorkerRepository } from './js-worker.repository';
import { checkRouteName } from './js-worker.route-name';
import type { RouteResponse } from './runtime/route.types';

/** How long a route's worker is reused before it is read again: how soon another instance's change is seen here. */
const ROUTE_CACHE_TTL_MS = 1_000;
/** Distinct route names remembered at once (unknown ones included); past it the cache starts over. */
const ROUTE_CACHE_MAX_ENTRIES = 1_024;
/** Script text held by the cache at once (a script may be 1 MiB); past it the cache starts over. */
const ROUTE_CACHE_MAX_SCRIPT_CHARS = 32 * 1024 * 1024;

/** How a route run ended (JsWorkerService.runRoute): the Response's parts, or the run's error. */
export type RouteRunOutcome = { ok: true; response: RouteResponse } | { ok: false; error: string };

interface Cached {
  worker: JsWorker | null;
  expires: number;
}

/**
 * Finds the worker that serves a route name, for the worker routes. Lookups
 * are cached for a second; a change made through this instance (create,
 * update, delete) empties the cache at once, and a lookup that was reading
 * while a change happened is used but not kept (a generation counter), so it
 * cannot put the old row back.
 */
@Injectable()
export class JsWorkerRoutes {
  private readonly cache = new Map<string, Cached>();
  private cachedScriptChars = 0;
  private generation = 0;

  constructor(private readonly workers: JsWorkerRepository) {}

  /** The worker whose route_name is `routeName`, or null; a name that could never be stored is not looked up. */
  async find(routeName: string): Promise<JsWorker | null> {
    if (!isRouteName(routeName)) return null;
    const now = Date.now();
    const cached = this.cache.get(routeName);
    if (cached !== undefined && cached.expires > now) return cached.worker;
    const generation = this.generation;
    const worker = (await this.workers.findByRouteName(routeName)) ?? null;
    if (generation === this.generation) this.keep(routeName, worker, now + ROUTE_CACHE_TTL_MS);
    return worker;
  }

  /** Called on every change to js_worker made here. */
  forget(): void {
    this.generation++;
    this.clear();
  }

  private keep(routeName: string, worker: JsWorker | null, expires: number): void {
    const chars = worker?.jsScript.length ?? 0;
    const replaced = this.cache.get(routeName)?.worker?.jsScript.length ?? 0;
    if (this.cache.size >= ROUTE_CACHE_MAX_ENTRIES || this.cachedScriptChars - replaced + chars > ROUTE_CACHE_MAX_SCRIPT_CHARS) this.clear();
    else this.cachedScriptChars -= replaced;
    this.cache.set(routeName, { worker, expires });
    this.cachedScriptChars += chars;
  }

  private clear(): void {
    this.cache.clear();
    this.cachedScriptChars = 0;
  }
}

/** Stored names are checked (and trimmed) by checkRouteName; anything it would change or refuse is not one. */
export function isRouteName(name: string): boolean {
  try {
    return checkRouteName(name) === name;
  } catch {
    return false;
  }
}
