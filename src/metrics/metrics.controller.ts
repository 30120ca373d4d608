import { Controller, Get, Headers, Inject, NotFoundException, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { bearerMatches, UNAUTHORIZED_BODY } from './metrics.access';
import { MetricsService } from './metrics.service';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * /metrics on the public port: behind METRICS_TOKEN when it is set, and not
 * there at all when METRICS_PORT serves it on a listener of its own (MetricsServer).
 */
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'metrics'>,
  ) {}

  @Get()
  async render(@Headers('authorization') authorization: string | undefined, @Res() reply: FastifyReply): Promise<void> {
    const { token, port } = this.config.metrics ?? {};
    if (port !== undefined) throw new NotFoundException();
    if (token !== undefined && !bearerMatches(authorization, token)) {
      await reply.code(401).header('www-authenticate', 'Bearer').send(UNAUTHORIZED_BODY);
      return;
    }
    await reply.header('content-type', METRICS_CONTENT_TYPE).send(await this.metrics.render());
  }
}
