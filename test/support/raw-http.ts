import { type IncomingHttpHeaders, request as httpRequest } from 'node:http';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body as JSON, or undefined when it is not JSON. */
  json: any;
}

export interface RawRequest {
  method?: string;
  headers?: Record<string, string>;
  /** Sent with its length; an array is sent chunked, piece by piece, until the server answers. */
  body?: Buffer | string | Buffer[];
  /** Only the headers are sent (with this length declared); the body never follows. */
  declaredLength?: number;
}

/**
 * One HTTP request over a connection of its own, with full control of what is
 * sent (chunked bodies, declared lengths, any header), answered with the
 * status, headers and body as bytes. A server that answers before taking the
 * whole body (413) is still heard: write errors after its answer are ignored.
 */
export function rawRequest(port: number, path: string, options: RawRequest = {}): Promise<RawResponse> {
  const { method = 'GET', headers = {}, body, declaredLength } = options;
  const all: Record<string, string> = { ...headers };
  if (declaredLength !== undefined) all['content-length'] = String(declaredLength);
  else if (body !== undefined && !Array.isArray(body)) all['content-length'] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest({ host: '127.0.0.1', port, method, path, agent: false, headers: all }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        let json: unknown;
        try {
          json = JSON.parse(bytes.toString('utf8'));
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: bytes, json });
        req.destroy();
      });
      res.on('error', reject);
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    if (declaredLength !== undefined) {
      req.flushHeaders();
      return;
    }
    if (Array.isArray(body)) {
      void writePieces(req, body, () => answered);
      return;
    }
    req.end(body);
  });
}

async function writePieces(req: ReturnType<typeof httpRequest>, pieces: Buffer[], answered: () => boolean): Promise<void> {
  for (const piece of pieces) {
    if (answered() || req.destroyed) return;
    await new Promise<void>((resolve) => req.write(piece, () => resolve()));
  }
  if (!answered() && !req.destroyed) req.end();
}
