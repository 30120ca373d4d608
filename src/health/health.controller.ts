import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
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
      this.database.pingCheck('database').withTimeout(2_000),
      this.readiness.migrations(),
      () => this.readiness.listeners(),
    ]);
  }
}
