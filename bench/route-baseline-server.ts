/**
 * The routes benchmark's baseline: the trivial route handler of bench/routes.ts
 * written as a plain Fastify route, at the same paths, with nothing else
 * (no Nest, no sandbox). PORT and HOST as the service reads them.
 */
import Fastify from 'fastify';

export const TRIVIAL_BODY = '{"ok":true}';

async function main(): Promise<void> {
  const fastify = Fastify({ logger: false });
  const handler = (_request: unknown, reply: { header(name: string, value: string): { send(body: string): unknown } }) =>
    reply.header('content-type', 'application/json').send(TRIVIAL_BODY);
  fastify.all('/nodeget/worker-route/:route', handler);
  fastify.all('/nodeget/worker-route/:route/*', handler);
  fastify.get('/health', (_request, reply) => reply.send({ status: 'ok' }));
  await fastify.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' });
}

if (require.main === module) {
  void main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
