// An HTTP route that answers JSON. Store this as a worker with route_name "hello-json"; it then answers
// any method at /nodeget/worker-route/hello-json and below it, without authentication:
//   curl -i 'http://127.0.0.1:3000/nodeget/worker-route/hello-json/greet?name=Ada'
//   curl -i -X POST -H 'content-type: application/json' -d '{"n": 2}' http://127.0.0.1:3000/nodeget/worker-route/hello-json
// env: { "greeting": "Hello" } (optional)
export default {
  async onRoute(request, env, ctx) {
    const url = new URL(request.url);
    const sent = request.method === 'POST' ? await request.json() : null;
    const reply = {
      ok: true,
      message: `${env.greeting ?? 'Hello'}, ${url.searchParams.get('name') ?? 'world'}!`,
      worker: ctx.workerName,
      method: request.method,
      path: url.pathname,
      sent,
      caller: request.headers.get('NG-Connecting-IP'),
      trace_id: randomUUID(),
    };
    return new Response(JSON.stringify(reply), {
      status: 200,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    });
  },
};
