import { loadQuickJS, type QuickJSEngine } from './quickjs.loader';
import { DEFAULT_EXPORT_MESSAGE, validateScript } from './script-validator';

describe(validateScript.name, () => {
  let engine: QuickJSEngine;
  const sut = (source: string) => validateScript(engine, source);

  beforeAll(async () => {
    // Validation normally runs on a sandbox thread (RunnerPool.validate); its logic is the same on this one.
    engine = await loadQuickJS(64 * 1024 * 1024);
  });

  it.each([
    ['both handlers', 'export default { async onCall(p) { return p }, onCron() { return 1 } }', ['onCall', 'onCron']],
    ['only onCall', 'export default { onCall: (p) => p }', ['onCall']],
    ['only onCron', 'const helper = () => 1;\nexport default { onCron() { return helper() } }', ['onCron']],
    ['top-level await', 'const n = await Promise.resolve(1);\nexport default { onCall: () => n }', ['onCall']],
  ])('accepts a script with %s', async (_, source, handlers) => {
    expect(await sut(source)).toEqual({ ok: true, handlers });
  });

  it('rejects a syntax error, saying where', async () => {
    const result = await sut('export default {\n  onCall() {\n    return 1 +;\n  },\n}');

    expect(result).toEqual({ ok: false, message: expect.stringMatching(/^SyntaxError: .+ at line 3, column \d+$/) });
  });

  it.each([
    ['no default export', 'export const onCall = () => 1;'],
    ['a script without exports', 'const x = 1;'],
    ['a default export without handlers', 'export default { run() { return 1 } }'],
    ['a handler that is not a function', 'export default { onCall: 1 }'],
    ['a default export that is a function', 'export default function onCall() { return 1 }'],
    ['a default export that is null', 'export default null'],
  ])('rejects %s', async (_, source) => {
    expect(await sut(source)).toEqual({ ok: false, message: DEFAULT_EXPORT_MESSAGE });
  });

  it('reports an error thrown while the module initialises', async () => {
    expect(await sut("throw new TypeError('bad init');\nexport default { onCall() {} }")).toEqual({
      ok: false,
      message: 'TypeError: bad init at line 1',
    });
  });

  it('stops a top-level endless loop after about a second', async () => {
    const started = Date.now();

    const result = await sut('while (true) {}\nexport default { onCall() {} }');

    expect(result).toEqual({ ok: false, message: expect.stringMatching(/^max_run_time exceeded/) });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('never evaluates the script with host capabilities', async () => {
    expect(await sut("export default { onCall() {} };\nrequire('fs');")).toEqual({
      ok: false,
      message: "ReferenceError: 'require' is not defined at line 2",
    });
  });

  it('refuses imports', async () => {
    expect(await sut("import fs from 'fs';\nexport default { onCall() {} }")).toEqual({
      ok: false,
      message: expect.stringContaining('module loading is disabled'),
    });
  });
});
