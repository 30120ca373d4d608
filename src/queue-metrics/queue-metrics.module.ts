import { Inject, Injectable, type InjectionToken, type OnApplicationBootstrap, Module } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import packageJson from '../../package.json';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { JSR_DATA_SOURCE } from '../database/data-source.name';
import { JsWorkerRunner } from '../js-worker/js-worker.runner';
import { JsonRpcNodeGetGateway, JsonRpcRootGateway } from '../json-rpc/json-rpc.gateway';
import { JsResultSubscriptionsService } from '../result-events/js-result-subscriptions.service';
import { JsResultWaitService } from '../result-events/js-result-wait.service';
import { RESULT_FINISHED_CHANNEL, ResultFinishedListener } from '../result-events/result-finished.listener';
import { TOKEN_CHANGED_CHANNEL, TokenChangesListener } from '../token/token-changes.listener';
import { MetricsService } from '../metrics/metrics.service';

/** The public counters of a `pg` Pool, which the embedded database's pool offers too (pglite.pool.ts). */
interface PoolCounts {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

function isPool(value: unknown): value is PoolCounts {
  return typeof (value as PoolCounts | undefined)?.totalCount === 'number';
}

/**
 * Points the queue gauges at the counters their owners already keep: each is
 * read when /metrics is scraped, so none of them costs a call anything.
 */
@Injectable()
export class QueueMetrics implements OnApplicationBootstrap {
  constructor(
    private readonly metrics: MetricsService,
    private readonly modules: ModuleRef,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const m = this.metrics;
    m.setBuildInfo({ version: packageJson.version, node: process.version, backend: this.config.database.kind });
    // TypeORM's postgres driver keeps its pool as `master`: pg's Pool, or the embedded database's.
    const pool = () => {
      const master: unknown = (this.find<DataSource>(getDataSourceToken(JSR_DATA_SOURCE))?.driver as { master?: unknown } | undefined)?.master;
      return isPool(master) ? master : undefined;
    };
    m.track('jsr_db_pool_connections', () => pool()?.totalCount ?? 0);
    m.track('jsr_db_pool_idle', () => pool()?.idleCount ?? 0);
    m.track('jsr_db_pool_waiting', () => pool()?.waitingCount ?? 0);
    for (const gateway of [this.find(JsonRpcRootGateway), this.find(JsonRpcNodeGetGateway)]) {
      if (gateway) m.track('jsr_ws_connections', () => gateway.clients.size);
    }
    const subscriptions = this.find(JsResultSubscriptionsService);
    if (subscriptions) m.track('jsr_subscriptions', () => subscriptions.size);
    const waiters = this.find(JsResultWaitService);
    if (waiters) m.track('jsr_result_waiters', () => waiters.waiting);
    const runner = this.find(JsWorkerRunner);
    if (runner) {
      m.track('jsr_worker_queue_length', () => runner.waiting);
      m.track('jsr_worker_busy_runners', () => runner.busy);
      m.track('jsr_worker_runners', () => this.config.jsWorkerPoolSize);
    }
    const results = this.find(ResultFinishedListener);
    if (results) m.trackListener(RESULT_FINISHED_CHANNEL, () => results.listening);
    const tokens = this.find(TokenChangesListener);
    // The embedded database hears its own token changes without a connection: nothing to report.
    if (tokens && this.config.database.kind === 'postgres') m.trackListener(TOKEN_CHANGED_CHANNEL, () => tokens.listening);
  }

  /** The provider wherever it is registered; absent in a partial application (unit tests). */
  private find<T>(type: InjectionToken<T>): T | undefined {
    try {
      return this.modules.get(type, { strict: false });
    } catch {
      return undefined;
    }
  }
}

/** Imported by the application module once every feature module is. */
@Module({ providers: [QueueMetrics] })
export class QueueMetricsModule {}
