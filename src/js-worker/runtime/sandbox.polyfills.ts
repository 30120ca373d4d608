import { readFileSync } from 'node:fs';

/**
 * Web globals a NodeGet script expects, from published, spec-tested polyfills evaluated inside
 * the guest (never host objects handed in, so nothing reaches the host through them):
 * - `fetch`: whatwg-fetch (GitHub), for `Headers`, `Request`, `Response`;
 * - `encoding`: fast-text-encoding (Google), for `TextEncoder`, `TextDecoder` (UTF-8);
 * - `base64`: base-64 (Mathias Bynens), for `atob`, `btoa`;
 * - `url`: core-js's URL and URLSearchParams, as core-js-url-browser publishes them bundled.
 * Each is read from its package once per thread and evaluated in a run only when a script first
 * touches one of its globals, so a run that uses none pays nothing.
 */
const POLYFILL_FILES = {
  fetch: 'whatwg-fetch/dist/fetch.umd.js',
  encoding: 'fast-text-encoding/text.min.js',
  base64: 'base-64/base64.js',
  url: 'core-js-url-browser/url.min.js',
} as const;

export type PolyfillName = keyof typeof POLYFILL_FILES;

export const POLYFILL_NAMES = Object.keys(POLYFILL_FILES) as PolyfillName[];

const sources = new Map<PolyfillName, string>();

/** A free variable of a polyfill bound by its wrapper instead of read from the guest's global object (see the loader). */
const EXTRA_PARAMETER: Partial<Record<PolyfillName, string>> = { fetch: 'URLSearchParams' };

/**
 * The polyfill as a guest expression: a function of the CommonJS/UMD free variables the packages
 * look for (`exports`, `module`, `global`, `window`, `self`, `define`), so each writes its exports
 * into the object it is given rather than onto the guest's global object.
 */
export function polyfillSource(name: string): string | undefined {
  if (!Object.hasOwn(POLYFILL_FILES, name)) return undefined;
  const key = name as PolyfillName;
  let source = sources.get(key);
  if (source === undefined) {
    const text = readFileSync(require.resolve(POLYFILL_FILES[key]), 'utf8');
    const extra = EXTRA_PARAMETER[key] === undefined ? '' : `, ${EXTRA_PARAMETER[key]}`;
    source = `(function (exports, module, global, window, self, define${extra}) {\n${text}\n})`;
    sources.set(key, source);
  }
  return source;
}
