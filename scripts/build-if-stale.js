#!/usr/bin/env node
'use strict';
/**
 * Builds dist/ only when it is missing or older than the sources, so that
 * `npm start` is one command on a fresh clone and needs no compiler (a
 * production install has none) once `npm run build` has run.
 */
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync, utimesSync } = require('node:fs');
const { join, relative, resolve } = require('node:path');

// `--root DIR` checks another checkout (tests use a throw-away one).
const rootArg = process.argv.indexOf('--root');
const ROOT = rootArg > 0 ? resolve(process.argv[rootArg + 1]) : join(__dirname, '..');
const DIST = join(ROOT, 'dist');

/** Every input of tsconfig.build.json with the file tsc writes for it. */
function inputsWithOutputs() {
  const pairs = [
    [join(ROOT, 'ormconfig.ts'), join(DIST, 'ormconfig.js')],
    [join(ROOT, 'package.json'), join(DIST, 'package.json')],
  ];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.ts$/.test(entry.name) && !/\.(spec|e2e-spec|d)\.ts$/.test(entry.name)) {
        pairs.push([path, join(DIST, relative(ROOT, path)).replace(/\.ts$/, '.js')]);
      }
    }
  };
  walk(join(ROOT, 'src'));
  return pairs;
}

const mtime = (path) => (existsSync(path) ? statSync(path).mtimeMs : undefined);

function stale() {
  return inputsWithOutputs().filter(([input, output]) => {
    const built = mtime(output);
    return built === undefined || built < mtime(input);
  });
}

const outdated = stale();
if (outdated.length === 0) process.exit(0);

// The checkout's own dev dependency only: never a compiler that happens to be installed further up.
const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
if (!existsSync(tsc)) {
  process.stderr.write(
    `dist/ is missing or older than ${relative(ROOT, outdated[0][0])}, and TypeScript is not installed ` +
      '(a production install): run `npm run build` where the dev dependencies are, or `npm run start:prod` to run dist/ as it is.\n',
  );
  process.exit(1);
}
process.stderr.write('building dist/ (npm run build) ...\n');
try {
  execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
} catch {
  process.exit(1);
}
// tsc leaves an output alone when its source was touched but not changed; mark it current.
const now = new Date();
for (const [, output] of stale()) if (existsSync(output)) utimesSync(output, now, now);
