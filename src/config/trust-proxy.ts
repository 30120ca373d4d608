import type { IncomingMessage } from 'node:http';
import proxyaddr from '@fastify/proxy-addr';

/**
 * Which proxies in front of the service are believed about the client's
 * address (TRUST_PROXY): none, the nearest `hops` of them, or those at these
 * addresses and ranges. Only a proxy believed may name the client in
 * `x-forwarded-for`; anyone else's header is ignored and the socket's peer is the client.
 */
export type TrustProxy = false | number | readonly string[];

/** A proxy chain longer than this is a misconfiguration rather than a deployment. */
export const MAX_TRUSTED_HOPS = 32;

/** Whether the proxy at `address`, `hop` steps from the server (0 = the socket's peer), is believed. */
export type TrustFunction = (address: string, hop: number) => boolean;

/**
 * TRUST_PROXY as written: a hop count, or a comma list of addresses, CIDR
 * ranges and proxy-addr's names (`loopback`, `linklocal`, `uniquelocal`).
 * Throws a message (without the variable's name) when it is neither.
 */
export function parseTrustProxy(raw: string | undefined): TrustProxy {
  const text = raw?.trim();
  if (!text) return false;
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (hops > MAX_TRUSTED_HOPS) throw new Error(`a hop count must be at most ${MAX_TRUSTED_HOPS}`);
    return hops === 0 ? false : hops;
  }
  const addresses = text.split(',').map((part) => part.trim());
  if (addresses.some((part) => part === '')) throw new Error('an empty entry in the list');
  // proxy-addr's own parser, so that what is accepted here is exactly what is applied.
  proxyaddr.compile(addresses);
  return addresses;
}

/** The function Fastify's `trustProxy` and `clientAddress` apply; undefined when no proxy is trusted. */
export function trustFunction(trust: TrustProxy): TrustFunction | undefined {
  if (trust === false) return undefined;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return proxyaddr.compile([...trust]);
}

/**
 * The client's address for a request that did not go through Fastify's
 * routing (a WebSocket upgrade), by the same rule as Fastify's `request.ip`.
 */
export function clientAddress(request: IncomingMessage, trust: TrustFunction | undefined): string {
  if (trust === undefined) return request.socket.remoteAddress ?? 'unknown';
  return proxyaddr(request, trust);
}
