// A cron job that inline-calls another worker (stored as "summarise-results") and logs what it got.
// Store this as a worker and run it from a crontab entry (or with js-worker_run, run_type "cron").
// env: { "token": "<key:secret of a token that may read the results>", "worker": "<worker to summarise>" }
export default {
  async onCron(input, env, ctx) {
    const since = Date.now() - 24 * 60 * 60 * 1000;
    const summary = await ctx.inlineCall('summarise-results', { token: env.token, worker: env.worker, since }, 10);
    nodegetLog.info('cron-report', `${env.worker}: ${summary.finished} finished, ${summary.failed} failed since ${new Date(since).toISOString()}`);
    return { reportedBy: ctx.workerName, runType: ctx.runType, summary };
  },
};
