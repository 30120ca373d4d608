import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { METRICS_CONTENT_TYPE } from './metrics.controller';
import { bearerMatches, UNAUTHORIZED_BODY } from './metrics.access';
import { MetricsService } from './metrics.service';

/**
 * With METRICS_PORT set, /metrics is served on that port of HOST by a plain
 * HTTP listener of its own, so that it can be kept off the public network;
 * METRICS_TOKEN still applies when set. It answers nothing else.
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MetricsServer.name);
  private server?: Server;

  constructor(
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'metrics' | 'host'>,
  ) {}

  /** The port it listens on (METRICS_PORT, or the one picked for 0); undefined when not serving. */
  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  async onApplicationBootstrap(): Promise<void> {
    const port = this.config.metrics?.port;
    if (port === undefined) return;
    const server = createServer((request, response) => void this.answer(request.url, request.headers.authorization, response));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.logger.log(`metrics on http://${this.config.host}:${this.port}/metrics`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async answer(url: string | undefined, authorization: string | undefined, response: ServerResponse): Promise<void> {
    const path = (url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"statusCode":404,"error":"Not Found"}');
      return;
    }
    const token = this.config.metrics?.token;
    if (token !== undefined && !bearerMatches(authorization, token)) {
      response.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' }).end(JSON.stringify(UNAUTHORIZED_BODY));
      return;
    }
    try {
      const text = await this.metrics.render();
      response.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(text);
    } catch (error) {
      this.logger.error({ err: error }, 'could not render the metrics');
      response.writeHead(500).end();
    }
  }
}
