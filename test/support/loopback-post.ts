import { request as httpRequest } from 'node:http';

/**
 * Posts a JSON-RPC request from a given loopback address (all of 127/8
 * reaches the server), so that a suite can play several clients, each with
 * an address of its own, as the per-address rules see them.
 */
export function postFrom(port: number, from: string, payload: unknown): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, localAddress: from, method: 'POST', path: '/', agent: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve(JSON.parse(text)));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(payload));
  });
}
