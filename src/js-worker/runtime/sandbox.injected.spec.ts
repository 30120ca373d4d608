import type { HostAnswer, WorkerLogLine, WorkerLogThreshold } from './host-calls';
import { loadQuickJS, type QuickJSEngine } from './quickjs.loader';
import type { SandboxChannel } from './quickjs.sandbox';
import type { RunOutcome } from './runtime.types';
import { toSandboxRequest } from './sandbox.protocol';
import { runScript } from './script-runner';

/** The web globals and the host-free parts of the injected API, as scripts use them. */
describe('injected web globals', () => {
  let engine: QuickJSEngine;

  beforeAll(async () => {
    engine = await loadQuickJS(256 * 1024 * 1024);
  });

  async function sut(body: string): Promise<RunOutcome> {
    const request = toSandboxRequest({
      script: `export default { async onCall(params, env, ctx) { ${body} } }`,
      handler: 'onCall',
      params: null,
      env: {},
      ctx: { run_type: 'call', js_result_id: 1, worker_name: 'w', runType: 'onCall', workerName: 'w', inlineCaller: null },
    });
    if (typeof request === 'string') throw new Error(request);
    return runScript(engine, request);
  }

  async function resultOf(body: string): Promise<unknown> {
    const outcome = await sut(body);
    if (!outcome.ok) throw new Error(outcome.error);
    return outcome.result;
  }

  it('URL parses, resolves relative references and exposes its parts', async () => {
    const result = await resultOf(`
      const u = new URL('../b/c?x=1&y=%20z#frag', 'https://user:pw@example.com:8443/a/d/e');
      return [u.href, u.protocol, u.hostname, u.port, u.pathname, u.search, u.hash, u.origin, u.searchParams.get('y')];`);

    expect(result).toEqual([
      'https://user:pw@example.com:8443/a/b/c?x=1&y=%20z#frag',
      'https:',
      'example.com',
      '8443',
      '/a/b/c',
      '?x=1&y=%20z',
      '#frag',
      'https://example.com:8443',
      ' z',
    ]);
  });

  it('URL refuses an invalid address with a TypeError', async () => {
    expect(await resultOf(`try { new URL('not a url'); return 'parsed' } catch (e) { return e instanceof TypeError }`)).toBe(true);
  });

  it('URLSearchParams reads, appends, sorts and serialises', async () => {
    const result = await resultOf(`
      const p = new URLSearchParams('?b=2&a=1&a=3&c=x+y');
      p.append('d', 'é&=');
      const all = p.getAll('a');
      p.sort();
      return [all, p.get('c'), p.has('b'), p.toString(), [...new URLSearchParams({ k: 'v' })]];`);

    expect(result).toEqual([['1', '3'], 'x y', true, 'a=1&a=3&b=2&c=x+y&d=%C3%A9%26%3D', [['k', 'v']]]);
  });

  it('TextEncoder and TextDecoder convert UTF-8 both ways', async () => {
    const result = await resultOf(`
      const bytes = new TextEncoder().encode('h€llo 😀');
      return [Array.from(bytes), new TextDecoder().decode(bytes), new TextDecoder('utf-8').encoding];`);

    expect(result).toEqual([[...Buffer.from('h€llo 😀')], 'h€llo 😀', 'utf-8']);
  });

  it('atob and btoa round-trip binary strings and refuse what is not base64 or Latin-1', async () => {
    const result = await resultOf(`
      const refused = (f) => { try { f(); return false } catch (e) { return true } };
      return [btoa('hello\\u00ff'), atob('aGVsbG8='), refused(() => atob('*')), refused(() => btoa('€'))];`);

    expect(result).toEqual([Buffer.from('hello\u00ff', 'latin1').toString('base64'), 'hello', true, true]);
  });

  it('Headers are case-insensitive, combine values and refuse invalid names', async () => {
    const result = await resultOf(`
      const h = new Headers({ 'Content-Type': 'text/plain' });
      h.append('X-A', '1');
      h.append('x-a', '2');
      let refused = false;
      try { h.set('bad name', 'v') } catch (e) { refused = e instanceof TypeError }
      return [h.get('content-type'), h.get('X-A'), h.has('CONTENT-TYPE'), [...h.keys()], refused];`);

    expect(result).toEqual(['text/plain', '1, 2', true, ['content-type', 'x-a'], true]);
  });

  it('Request carries method, url, headers and a UTF-8 body read as text, JSON or bytes', async () => {
    const result = await resultOf(`
      const bytes = new TextEncoder().encode(JSON.stringify({ word: 'grüß' }));
      const req = new Request('https://example.com/p?q=1', { method: 'POST', headers: { 'content-type': 'application/json' }, body: bytes });
      const copy = new Request('https://example.com/t', { method: 'PUT', body: 'ü' });
      const buffer = await copy.arrayBuffer();
      return [req.method, req.url, req.headers.get('content-type'), await req.clone().text(), (await req.json()).word, Array.from(new Uint8Array(buffer))];`);

    expect(result).toEqual(['POST', 'https://example.com/p?q=1', 'application/json', '{"word":"grüß"}', 'grüß', [0xc3, 0xbc]]);
  });

  it('Request refuses a body on GET and a body read twice', async () => {
    const result = await resultOf(`
      let get = '';
      try { new Request('https://e.com', { method: 'GET', body: 'x' }) } catch (e) { get = e.constructor.name }
      const r = new Request('https://e.com', { method: 'POST', body: 'x' });
      await r.text();
      const again = await r.text().then(() => 'read', (e) => e.message);
      return [get, again];`);

    expect(result).toEqual(['TypeError', 'Already read']);
  });

  it('Response holds status, headers and body, and Response.json builds a JSON reply', async () => {
    const result = await resultOf(`
      const r = new Response(JSON.stringify({ a: 1 }), { status: 201, headers: { 'content-type': 'application/json' } });
      const j = Response.json({ b: [2] }, { status: 202 });
      let invalid = false;
      try { new Response('', { status: 99 }) } catch (e) { invalid = e instanceof RangeError }
      return [r.status, r.ok, r.headers.get('content-type'), await r.json(), j.status, j.headers.get('content-type'), await j.text(), invalid];`);

    expect(result).toEqual([201, true, 'application/json', { a: 1 }, 202, 'application/json', '{"b":[2]}', true]);
  });

  it('randomUUID gives distinct version-4 UUIDs', async () => {
    const result = (await resultOf('return [randomUUID(), randomUUID()]')) as string[];

    expect(result[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(result[1]).not.toBe(result[0]);
  });

  it('gives the handler context NodeGet names', async () => {
    const result = await resultOf('return [ctx.runType, ctx.workerName, ctx.inlineCaller, typeof ctx.inlineCall, ctx.run_type, ctx.js_result_id]');

    expect(result).toEqual(['onCall', 'w', null, 'function', 'call', 1]);
  });

  it('refuses inlineCall and nodeget where no host answers them, as an Error the script can catch', async () => {
    const result = await resultOf(`
      const a = await inlineCall('other', {}).then(() => 'called', (e) => [e instanceof Error, e.message]);
      const b = await nodeget('js-result_query', {}).then(() => 'called', (e) => [e instanceof Error, e.message]);
      return [a, b];`);

    expect(result).toEqual([
      [true, 'inlineCall is not available while a script is being stored (only when it runs)'],
      [true, 'nodeget is not available while a script is being stored (only when it runs)'],
    ]);
  });

  it('lets a script replace a web global before it is first read', async () => {
    expect(await resultOf('globalThis.URL = 5; return URL')).toBe(5);
  });

  it('does not evaluate a polyfill the script never touches', async () => {
    expect(await resultOf("return typeof Object.getOwnPropertyDescriptor(globalThis, 'URL').get")).toBe('function');
  });

  it('builds a Request or a Response without evaluating URL, and still types a URLSearchParams body', async () => {
    const urlIsAccessor = "typeof Object.getOwnPropertyDescriptor(globalThis, 'URL').get === 'function'";
    expect(await resultOf(`new Request('http://h/x'); new Response(new Uint8Array(1)); return ${urlIsAccessor}`)).toBe(true);
    expect(
      await resultOf(`const r = new Request('http://h/', { method: 'POST', body: new URLSearchParams({ a: '1', b: 'x y' }) });
        return [r.headers.get('content-type'), await r.text()]`),
    ).toEqual(['application/x-www-form-urlencoded;charset=UTF-8', 'a=1&b=x+y']);
  });

  describe('with a host', () => {
    /** A main thread stand-in: answers each call with `answer(kind, payload)` (undefined: never), keeps log lines. */
    function hostedRun(body: string, answer: (kind: string, payload: string) => HostAnswer | undefined, logLevel: WorkerLogThreshold = 'trace', maxRunTimeMs = 2000) {
      const lines: WorkerLogLine[] = [];
      const answers: { callId: number; answer: HostAnswer }[] = [];
      let wake: (() => void) | undefined;
      const channel: SandboxChannel = {
        settings: { logLevel, fetchEnabled: false },
        send: (callId, kind, payload) => {
          const reply = answer(kind, payload);
          if (reply === undefined) return;
          answers.push({ callId, answer: reply });
          wake?.();
        },
        log: (line) => lines.push(line),
        next: async (deadline) => {
          while (answers.length === 0) {
            const left = deadline - performance.now();
            if (left <= 0) return undefined;
            await new Promise<void>((resolve) => {
              wake = resolve;
              setTimeout(resolve, left);
            });
          }
          return answers.shift();
        },
      };
      const request = toSandboxRequest({
        script: `export default { async onCall(params, env, ctx) { ${body} } }`,
        handler: 'onCall',
        params: null,
        env: {},
        ctx: { run_type: 'call', js_result_id: 1, worker_name: 'w' },
        limits: { maxRunTimeMs },
        host: { call: () => Promise.reject(new Error('unused')), log: () => undefined },
      });
      if (typeof request === 'string') throw new Error(request);
      return { outcome: runScript(engine, request, channel), lines };
    }

    it('resolves inlineCall with the answer and sends what the script asked for', async () => {
      const sent: string[] = [];
      const { outcome } = hostedRun('return [await inlineCall("w2", { a: 1 }, 2), await ctx.inlineCall("w3")]', (kind, payload) => {
        sent.push(`${kind} ${payload}`);
        return { ok: true, json: JSON.stringify({ echoed: kind }) };
      });

      expect(await outcome).toEqual({ ok: true, result: [{ echoed: 'inline' }, { echoed: 'inline' }], console: [] });
      expect(sent).toEqual(['inline {"name":"w2","params":{"a":1},"timeout_sec":2}', 'inline {"name":"w3","timeout_sec":null}']);
    });

    it('rejects with an Error carrying the refusal', async () => {
      const { outcome } = hostedRun('return nodeget("m", {}).catch((e) => [e instanceof Error, e.message])', () => ({ ok: false, error: 'nope' }));

      expect(await outcome).toEqual({ ok: true, result: [true, 'nope'], console: [] });
    });

    it("ends a run whose call is never answered at the run's wall clock", async () => {
      const { outcome } = hostedRun('await inlineCall("slow"); return 1', () => undefined, 'trace', 200);

      expect(await outcome).toEqual({ ok: false, error: 'max_run_time exceeded: script ran longer than 200 ms', console: [] });
    });

    it('sends nodegetLog lines at or above the level, with the namespace (default when empty) and the message as text', async () => {
      const { outcome, lines } = hostedRun(
        "for (const l of ['trace', 'debug', 'info', 'warn', 'error', 'log']) nodegetLog[l]('ns', l); nodegetLog.error(null, { toString() { return 'obj' } }); nodegetLog.warn('', 5)",
        () => undefined,
        'warn',
      );

      await outcome;
      expect(lines).toEqual([
        { level: 'warn', namespace: 'ns', message: 'warn' },
        { level: 'error', namespace: 'ns', message: 'error' },
        { level: 'error', namespace: 'default', message: 'obj' },
        { level: 'warn', namespace: 'default', message: '5' },
      ]);
    });

    it('keeps at most MAX_LOG_LINES_PER_RUN lines of one run', async () => {
      const { outcome, lines } = hostedRun("for (let i = 0; i < 1500; i++) nodegetLog.info('ns', i)", () => undefined);

      await outcome;
      expect(lines).toHaveLength(1000);
      expect(lines[999].message).toBe('999');
    });
  });
});
