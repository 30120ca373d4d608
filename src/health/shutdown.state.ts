import { Injectable } from '@nestjs/common';

/**
 * Whether the server has begun to shut down. Set first thing on SIGTERM (or
 * app.close()), so that readiness fails while the server still serves: load
 * balancers take it out of rotation before it stops accepting (see server-drain.ts).
 */
@Injectable()
export class ShutdownState {
  private since?: number;

  get shuttingDown(): boolean {
    return this.since !== undefined;
  }

  begin(): void {
    this.since ??= Date.now();
  }
}
