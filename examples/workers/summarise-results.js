// Queries js-result_query through nodeget() with the token it is given, and summarises a worker's runs.
// Callable directly (js-worker_run, params { token, worker, since }) or inline from another worker.
async function summarise({ token, worker, since = 0 }) {
  const reply = await nodeget('js-result_query', {
    token,
    query: {
      condition: [{ js_worker_name: worker }, { start_time_from_to: [since, Date.now()] }, { limit: 1000 }],
    },
  });
  if (reply.error) throw new Error(`js-result_query failed: ${reply.error.code} ${reply.error.message}`);
  const rows = reply.result;
  return {
    worker,
    runs: rows.length,
    finished: rows.filter((row) => row.finish_time !== null && row.error_message === null).length,
    failed: rows.filter((row) => row.error_message !== null).length,
  };
}

export default {
  onCall: (input) => summarise(input),
  onInlineCall: (input) => summarise(input),
};
