import { All, Controller, Req, Res } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { WORKER_ROUTE_CONFIG } from './worker-route.body';
import { RouteFailure } from './worker-route.errors';
import { writeRouteAnswer, writeRouteFailure } from './worker-route.reply';
import { WorkerRouteService } from './worker-route.service';

/**
 * NodeGet's prefix, and its older one, which it still serves the same way:
 * the route's own path is `/{route_name}`, and everything below it is too.
 */
export const WORKER_ROUTE_PREFIXES = ['/nodeget/worker-route', '/worker-route'] as const;

const PATHS = WORKER_ROUTE_PREFIXES.flatMap((prefix) => [`${prefix}/:route`, `${prefix}/:route/*`]);

/**
 * Worker HTTP routes: any method, unauthenticated (as NodeGet serves them),
 * answered by the worker whose route_name is the path's first segment. The
 * body is read as bytes by readWorkerRouteBodies (this route's config marks it).
 */
@Controller()
export class WorkerRouteController {
  constructor(private readonly service: WorkerRouteService) {}

  @All(PATHS)
  @RouteConfig(WORKER_ROUTE_CONFIG)
  async serve(@Req() request: FastifyRequest<{ Params: { route: string } }>, @Res() reply: FastifyReply): Promise<void> {
    try {
      writeRouteAnswer(reply, await this.service.answer(request.params.route, request));
    } catch (error) {
      if (!(error instanceof RouteFailure)) throw error;
      writeRouteFailure(reply, error);
    }
  }
}
