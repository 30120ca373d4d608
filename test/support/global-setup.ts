import { execFileSync } from 'node:child_process';

/**
 * Some suites run the server and the CLI as real processes, as operators do;
 * they need the compiled output, so it is built once before any suite starts.
 */
export default function globalSetup(): void {
  // For a developer running in-process suites while another part of the tree is mid-edit; CI never sets it.
  if (process.env.JEST_SKIP_BUILD === '1') return;
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
      cwd: `${__dirname}/../..`,
      stdio: 'pipe',
    });
  } catch (err) {
    const out = (err as { stdout?: Buffer }).stdout?.toString() ?? '';
    throw new Error(`the build failed, so process-level tests cannot run (JEST_SKIP_BUILD=1 runs the in-process suites without it):\n${out}`);
  }
}
