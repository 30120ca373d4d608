/**
 * `npm run -s build:tools && node dist-tools/bench/inline-call.js [--calls N] [--rounds R]`:
 * what one inlineCall costs, beside a plain js-worker_run of the same trivial worker.
 *
 * The service runs in this process on an in-memory embedded database (nothing to set up).
 * - inlineCall: one run makes N inline calls in a row (`await inlineCall('noop', i)`) and
 *   measures them itself with Date.now(); per call = elapsed / N. Each call writes and finishes
 *   a js_result row and runs the callee in its own sandbox, as inline calls do.
 * - js-worker_run: N runs in a row, each a js-worker_run then js-result_wait over HTTP; per run
 *   = elapsed / N, so it includes the HTTP round trips a client pays and the in-sandbox figure does not.
 * R rounds alternate the two; the median of each is printed. The machine is shared: compare the
 * two figures of one run, not figures across runs.
 */
import 'reflect-metadata';
import { createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/app.config';
import { formatToken, TokenService } from '../src/token/token.service';

interface Options {
  calls: number;
  rounds: number;
}

function parseArgs(argv: string[]): Options {
  const value = (flag: string, fallback: number) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? Number(argv[i + 1]) : fallback;
  };
  return { calls: value('--calls', 200), rounds: value('--rounds', 5) };
}

const b64 = (source: string) => Buffer.from(source, 'utf8').toString('base64');

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const config = loadConfig({ ...process.env, DATA_DIR: 'memory://', LOG_LEVEL: 'warn', PORT: '0', HOST: '127.0.0.1' });
  const app = await createApp({ ...config, workerApi: { ...config.workerApi!, inlineCallMaxPerRun: options.calls } });
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  try {
    const token = formatToken(await app.get(TokenService).rollSuperToken());
    let nextId = 1;
    const rpc = async (method: string, params: unknown): Promise<any> => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }) });
      const body = (await res.json()) as { result?: any; error?: unknown };
      if (body.error !== undefined) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
      return body.result;
    };
    await rpc('js-worker_create', { token, name: 'noop', js_script_base64: b64('export default { onCall: (n) => n, onInlineCall: (n) => n }') });
    await rpc('js-worker_create', {
      token,
      name: 'caller',
      js_script_base64: b64('export default { async onCall(n) { const t0 = Date.now(); for (let i = 0; i < n; i++) await inlineCall("noop", i); return Date.now() - t0 } }'),
    });

    const inlineUs: number[] = [];
    const runUs: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const { id } = await rpc('js-worker_run', { token, js_script_name: 'caller', params: options.calls });
      const row = await rpc('js-result_wait', { token, id, timeout_ms: 60_000 });
      if (row.error_message !== null) throw new Error(`the inline-call run failed: ${row.error_message}`);
      inlineUs.push((Number(row.result) * 1000) / options.calls);

      const started = performance.now();
      for (let i = 0; i < options.calls; i++) {
        const run = await rpc('js-worker_run', { token, js_script_name: 'noop', params: i });
        await rpc('js-result_wait', { token, id: run.id, timeout_ms: 60_000 });
      }
      runUs.push(((performance.now() - started) * 1000) / options.calls);
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    process.stdout.write(
      `${JSON.stringify({ calls: options.calls, rounds: options.rounds, inline_call_us: Math.round(median(inlineUs)), js_worker_run_us: Math.round(median(runUs)), inline_rounds_us: inlineUs.map(Math.round), run_rounds_us: runUs.map(Math.round) })}\n`,
    );
  } finally {
    await app.close();
  }
}

void main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
