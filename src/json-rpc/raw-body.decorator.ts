import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

/**
 * The request body as text. The JSON-RPC endpoint parses it itself, because a
 * malformed body must be answered with a JSON-RPC parse error, not an HTTP 400.
 */
export const RawBody = createParamDecorator((_data: unknown, ctx: ExecutionContext): string => {
  const body = ctx.switchToHttp().getRequest<{ body?: unknown }>().body;
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  return '';
});
