import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import packageJson from '../package.json';
import { CLI, ROOT, rpcOver, runCli, startServer } from './support/processes';
import { type ProcessBackend, processBackend } from './support/process-backend';
import { backendName } from './support/test-database';

const TOKEN_LINE = /^[A-Za-z0-9]{16}:[A-Za-z0-9]{32}$/;
const queryAll = (token: string) => ({ token, query: { condition: [{ limit: 1 }] } });

function buildIfStale(root: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'scripts', 'build-if-stale.js'), '--root', root], (err, _stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

/** Each test starts several servers and CLI processes; an embedded database takes seconds to open in each. */
jest.setTimeout(240_000);

/** Build once, start without a compiler: what `npm run build`, `npm start` and the `js-result-service` bin do. */
describe('the production build and the js-result-service bin', () => {
  it('compiles src/ only: neither bench/ nor chaos/ is in the production build', () => {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const listed = execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--listFilesOnly'], { cwd: ROOT }).toString();
    const ours = listed.split('\n').filter((file) => file.startsWith(`${ROOT}/`) && !file.includes('/node_modules/'));
    expect(ours).toContain(join(ROOT, 'src', 'main.ts'));
    expect(ours.filter((file) => /^\/(bench|chaos|test)\//.test(file.slice(ROOT.length)))).toEqual([]);
  });

  describe('npm start on a checkout (scripts/build-if-stale.js)', () => {
    // A checkout of its own, where no TypeScript can be found: as after `npm prune --omit=dev`.
    let root: string;
    const write = (path: string, text: string, secondsAgo: number) => {
      const full = join(root, path);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, text);
      const at = new Date(Date.now() - secondsAgo * 1000);
      utimesSync(full, at, at);
    };

    beforeEach(() => {
      root = mkdtempSync(join(tmpdir(), 'jsr-checkout-'));
      for (const [source, built] of [
        ['src/main.ts', 'dist/src/main.js'],
        ['src/token/token.service.ts', 'dist/src/token/token.service.js'],
        ['ormconfig.ts', 'dist/ormconfig.js'],
        ['package.json', 'dist/package.json'],
      ]) {
        write(source, '{}', 60);
        write(built, '{}', 30);
      }
      // Specs are not built, so they never make dist/ stale.
      write('src/token/token.service.spec.ts', '', 0);
    });

    afterEach(() => rmSync(root, { recursive: true, force: true }));

    it('runs what is built, needing no compiler, when dist/ is current', async () => {
      expect(await buildIfStale(root)).toEqual({ code: 0, stderr: '' });
    });

    it('builds when a source is newer than its output or an output is missing, and says what to do where no compiler is', async () => {
      write('src/token/token.service.ts', '{}', 0);
      const stale = await buildIfStale(root);
      expect(stale.code).toBe(1);
      expect(stale.stderr).toContain('older than src/token/token.service.ts, and TypeScript is not installed');
      expect(stale.stderr).toContain('npm run build');

      rmSync(join(root, 'dist'), { recursive: true });
      expect((await buildIfStale(root)).stderr).toContain('dist/ is missing or older than');
    });
  });

  it('answers --version on every command, running none of them', async () => {
    for (const args of [['--version'], ['serve', '--version'], ['migrate', '--version'], ['token', 'create', '--version'], ['backup', '-V']]) {
      const result = await runCli(args, {});
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 0, stdout: `${packageJson.version}\n` });
    }
  });

  describe(`on the ${backendName} database`, () => {
    let backend: ProcessBackend;

    beforeEach(async () => {
      backend = await processBackend();
    });

    afterEach(() => backend.drop());

    it('migrate applies pending migrations once and exits; js-result-service with no command serves', async () => {
      const first = await runCli(['migrate'], backend.env);
      expect(first.code).toBe(0);
      const applied: string[] = JSON.parse(first.lastLine).applied;
      expect(applied).toEqual(expect.arrayContaining(['CreateJsResult1795733547000', 'CreateToken1795733547001', 'CreateServerSecret1796210000002']));
      expect(JSON.parse((await runCli(['migrate'], backend.env)).lastLine)).toEqual({ applied: [] });

      const superToken = (await runCli(['super-token', 'roll'], backend.env)).lastLine;
      expect(superToken).toMatch(TOKEN_LINE);
      const server = await startServer(backend.env, [CLI]);
      try {
        expect((await rpcOver(server.port, 'js-result_query', queryAll(superToken))).result).toEqual([]);
      } finally {
        await server.stop();
      }
    });
  });
});
