import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CrontabModule } from '../crontab/crontab.module';
import { ResultEventsModule } from '../result-events/result-events.module';
import { TokenModule } from '../token/token.module';
import { HealthController } from './health.controller';
import { HealthModule } from './health.module';
import { ReadinessIndicator } from './readiness.indicator';

/** `/health`, `/health/live` and `/health/ready`: the standalone server's probes; an embedding application mounts none. */
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), HealthModule, TokenModule, ResultEventsModule, CrontabModule],
  controllers: [HealthController],
  providers: [ReadinessIndicator],
})
export class HealthRouteModule {}
