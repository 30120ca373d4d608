import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { type Observable, tap } from 'rxjs';
import { MetricsService } from '../metrics/metrics.service';
import { errorCodeOf } from './json-rpc.errors';
import { rpcCallOf } from './rpc-call';

/**
 * Counts and times the calls that reach their handler, by method and outcome.
 * Calls refused before (by the envelope or a guard) are counted by the
 * dispatcher, which sees that this interceptor did not record them.
 */
@Injectable()
export class RpcMetricsInterceptor implements NestInterceptor {
  constructor(private readonly metrics: MetricsService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const call = rpcCallOf(context);
    if (call === undefined) return next.handle();
    const started = performance.now();
    const record = (code: number) => {
      call.recorded = true;
      this.metrics.recordCall(call.method, code, (performance.now() - started) / 1000);
    };
    return next.handle().pipe(
      tap({
        next: () => record(0),
        error: (error: unknown) => record(errorCodeOf(error)),
      }),
    );
  }
}
