import { Module } from '@nestjs/common';
import { ShutdownState } from './shutdown.state';

/** Whether the service is stopping: what the scheduler and the readiness probe consult. No routes. */
@Module({
  providers: [ShutdownState],
  exports: [ShutdownState],
})
export class HealthModule {}
