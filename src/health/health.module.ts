import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ResultEventsModule } from '../result-events/result-events.module';
import { TokenModule } from '../token/token.module';
import { HealthController } from './health.controller';
import { ReadinessIndicator } from './readiness.indicator';
import { ShutdownState } from './shutdown.state';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), TokenModule, ResultEventsModule],
  controllers: [HealthController],
  providers: [ReadinessIndicator, ShutdownState],
  exports: [ShutdownState],
})
export class HealthModule {}
