/**
 * A small static file server for the built demo, bound to 127.0.0.1 on a free port. It serves GET
 * and HEAD for files under `root` (no listing, no path escapes), with the MIME types the page
 * needs (`application/wasm` so that wasm streams compile), and closes itself after `lifetimeMs`.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** A running server: its base URL, the paths it served, and `close`. */
export interface StaticServer {
  /** `http://127.0.0.1:<port>/`. */
  url: string;
  /** Request paths answered with 200, in order. */
  served: string[];
  /** Request paths answered with an error status. */
  failed: string[];
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/** Serves `root` until `close()` or `lifetimeMs` (default 5 minutes), whichever comes first. */
export async function serveStatic(root: string, lifetimeMs = 5 * 60_000): Promise<StaticServer> {
  const base = path.resolve(root);
  const served: string[] = [];
  const failed: string[] = [];
  const server = http.createServer((req, res) => {
    const reject = (status: number) => {
      failed.push(`${status} ${req.url}`);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(String(status));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reject(405);
    let rel: string;
    try {
      rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return reject(400);
    }
    const file = path.join(base, rel.endsWith('/') ? `${rel}index.html` : rel);
    if (file !== base && !file.startsWith(base + path.sep)) return reject(403);
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) return reject(404);
      served.push(rel);
      res.writeHead(200, { 'content-type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream', 'content-length': st.size, 'cache-control': 'no-store' });
      if (req.method === 'HEAD') return res.end();
      fs.createReadStream(file).pipe(res);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const close = () =>
    new Promise<void>((resolve) => {
      clearTimeout(timer);
      server.closeAllConnections();
      server.close(() => resolve());
    });
  const timer = setTimeout(() => void close(), lifetimeMs);
  timer.unref();
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, served, failed, close };
}
