import { lookup } from 'node:dns/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, DEFAULT_WORKER_API_SETTINGS } from '../config/app.config';
import type { HostAnswer } from './runtime';

/** fetch() calls one run may make. */
export const FETCH_MAX_CALLS_PER_RUN = 50;
/** Response body bytes one run may receive in all; a response past it is cut off and refused. */
export const FETCH_MAX_BYTES_PER_RUN = 8 * 1024 * 1024;
/** One fetch, its redirects included, from the request to the last byte. */
export const FETCH_TIMEOUT_MS = 10_000;
export const FETCH_MAX_REDIRECTS = 5;

/** What one run has used of its fetch allowance. */
export interface FetchBudget {
  calls: number;
  bytes: number;
}

interface FetchRequest {
  url: string;
  method: string;
  headers: [string, string][];
  body?: string;
  bodyBase64?: string;
}

interface AllowPattern {
  /** `*` any host; `*.example.com` its subdomains; otherwise the exact host. */
  host: string;
  port?: string;
}

/** Raised for a refusal; its message is what the script's fetch rejects with. */
class FetchRefused extends Error {}

/** Loopback, private, link-local, shared, reserved and multicast ranges: never reached through a pattern. */
const INTERNAL = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) INTERNAL.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96]] as const) {
  INTERNAL.addSubnet(net, prefix, 'ipv6');
}

const REQUEST_HEADERS_DROPPED = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'te', 'trailer', 'proxy-authorization']);

/**
 * `fetch` for scripts, off unless WORKER_FETCH_ALLOW lists host patterns. A request (and every
 * redirect it follows) must name an allowed host; the address it resolves to must be public
 * unless the host is listed exactly (not through a wildcard), and the connection goes to that
 * checked address, so a DNS answer that changes in between cannot point it inside. Calls, time
 * and response bytes are bounded per run.
 */
@Injectable()
export class WorkerFetch {
  private readonly allow: readonly AllowPattern[];

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.allow = (config.workerApi ?? DEFAULT_WORKER_API_SETTINGS).fetchAllow.map(toPattern);
  }

  budget(): FetchBudget {
    return { calls: 0, bytes: 0 };
  }

  async fetch(payload: string, budget: FetchBudget): Promise<HostAnswer> {
    try {
      return { ok: true, json: JSON.stringify(await this.follow(JSON.parse(payload) as FetchRequest, budget)) };
    } catch (error) {
      const message = error instanceof FetchRefused ? error.message : `request failed (${error instanceof Error ? error.message : String(error)})`;
      return { ok: false, error: `fetch: ${message}` };
    }
  }

  private async follow(request: FetchRequest, budget: FetchBudget): Promise<unknown> {
    if (this.allow.length === 0) throw new FetchRefused('disabled: this server allows scripts no network access (WORKER_FETCH_ALLOW is empty)');
    if (budget.calls >= FETCH_MAX_CALLS_PER_RUN) throw new FetchRefused(`this run has made ${FETCH_MAX_CALLS_PER_RUN} requests, the most one run may make`);
    budget.calls++;
    const deadline = Date.now() + FETCH_TIMEOUT_MS;
    let current = request;
    for (let hop = 0; ; hop++) {
      const url = parseUrl(current.url);
      const address = await this.checked(url);
      const response = await send(url, address, current, deadline, budget);
      const location = response.headers.find(([name]) => name === 'location')?.[1];
      if (![301, 302, 303, 307, 308].includes(response.status) || location === undefined) {
        return { ...response, url: url.href, redirected: hop > 0 };
      }
      if (hop >= FETCH_MAX_REDIRECTS) throw new FetchRefused(`more than ${FETCH_MAX_REDIRECTS} redirects`);
      const toGet = response.status === 303 || ((response.status === 301 || response.status === 302) && current.method === 'POST');
      current = toGet
        ? { url: new URL(location, url).href, method: 'GET', headers: current.headers }
        : { ...current, url: new URL(location, url).href };
    }
  }

  /** The address to connect to, or a refusal naming why the URL may not be fetched. */
  private async checked(url: URL): Promise<{ address: string; family: number }> {
    const host = url.hostname.toLowerCase();
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    const matched = this.allow.filter((p) => (p.port === undefined || p.port === port) && hostMatches(p.host, host));
    if (matched.length === 0) throw new FetchRefused(`${url.host} is not an allowed host (WORKER_FETCH_ALLOW)`);
    const exact = matched.some((p) => !p.host.startsWith('*'));
    const bare = host.startsWith('[') ? host.slice(1, -1) : host;
    const addresses = isIP(bare) !== 0 ? [{ address: bare, family: isIP(bare) }] : await lookup(bare, { all: true });
    if (addresses.length === 0) throw new FetchRefused(`${host} has no address`);
    const internal = addresses.find((a) => isInternal(a.address, a.family));
    if (internal !== undefined && !exact) {
      throw new FetchRefused(`${host} resolves to ${internal.address}, a loopback, private or reserved address; list the host itself in WORKER_FETCH_ALLOW to allow it`);
    }
    return addresses[0];
  }
}

function toPattern(text: string): AllowPattern {
  const match = /^(.*?)(?::(\d{1,5}))?$/.exec(text.toLowerCase());
  return { host: match?.[1] ?? text, port: match?.[2] };
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  return pattern === host;
}

function isInternal(address: string, family: number): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return INTERNAL.check(mapped[1], 'ipv4');
  return INTERNAL.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

function parseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new FetchRefused(`invalid URL ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new FetchRefused(`only http and https URLs can be fetched, not ${url.protocol}`);
  return url;
}

interface FetchedResponse {
  status: number;
  statusText: string;
  headers: [string, string][];
  bodyBase64: string;
}

/** One request to the checked address; the body is read only within the run's remaining bytes. */
function send(url: URL, target: { address: string; family: number }, request: FetchRequest, deadline: number, budget: FetchBudget): Promise<FetchedResponse> {
  const body = request.bodyBase64 !== undefined ? Buffer.from(request.bodyBase64, 'base64') : request.body !== undefined ? Buffer.from(request.body, 'utf8') : undefined;
  const headers: Record<string, string> = {};
  for (const [name, value] of request.headers) if (!REQUEST_HEADERS_DROPPED.has(name.toLowerCase())) headers[name] = value;
  if (body !== undefined) headers['content-length'] = String(body.length);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) return reject(new FetchRefused(`no answer within ${FETCH_TIMEOUT_MS} ms`));
    const req = client.request({
      host: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      method: request.method,
      headers,
      servername: isIP(url.hostname) === 0 ? url.hostname : undefined,
      // The address checked above, never a second lookup.
      lookup: (_host, options, callback) => {
        if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [target]);
        else callback(null, target.address, target.family);
      },
    });
    const timer = setTimeout(() => req.destroy(new FetchRefused(`no answer within ${FETCH_TIMEOUT_MS} ms`)), remainingMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        budget.bytes += chunk.length;
        if (budget.bytes > FETCH_MAX_BYTES_PER_RUN) {
          req.destroy(new FetchRefused(`the responses passed ${FETCH_MAX_BYTES_PER_RUN} bytes, the most one run may receive`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        clearTimeout(timer);
        const pairs: [string, string][] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i].toLowerCase(), res.rawHeaders[i + 1]]);
        resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: pairs, bodyBase64: Buffer.concat(chunks).toString('base64') });
      });
      res.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    req.end(body);
  });
}
