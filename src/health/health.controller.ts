import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { JSR_DATA_SOURCE } from '../database/data-source.name';
import { ReadinessIndicator } from './readiness.indicator';

/**
 * Probes for orchestrators and load balancers. Liveness says only that the
 * process answers on its event loop: a database outage, which the service
 * survives, must not get it restarted. Readiness says whether calls can be
 * served here now; `/health` is kept as its alias.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly readiness: ReadinessIndicator,
    // Named: terminus would look for the default DataSource, which an embedding application may own.
    @InjectDataSource(JSR_DATA_SOURCE) private readonly dataSource: DataSource,
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  @Get(['ready', ''])
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.readiness.accepting(),
      this.database.pingCheck('database', { connection: this.dataSource }).withTimeout(2_000),
      this.readiness.migrations(),
      () => this.readiness.listeners(),
    ]);
  }
}
