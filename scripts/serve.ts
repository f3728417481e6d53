/**
 * npm start: builds nothing, serves the project root on localhost (PORT, default 8080): the demo shop at /,
 * the SDK at /dist/, the shipped model at /models/. Also used by the e2e tests and the benchmarks.
 */
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.md': 'text/markdown; charset=utf-8',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};
/** The Content-Type this server sends for a file (also what the e2e tests' routed pages send). */
export const contentType = (file: string): string => TYPES[path.extname(file)] ?? 'application/octet-stream';
const ALLOWED = ['dist', 'models', 'demo', 'e2e'];

/** `cors`: answer any origin (as a CDN serving dist/ does), for pages on another origin. */
export function createServer(root = ROOT, opts: { cors?: boolean } = {}): http.Server {
  return http.createServer((req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/' || url.pathname === '/index.html') {
        res.writeHead(302, { location: '/demo/' });
        res.end();
        return;
      }
      let p = decodeURIComponent(url.pathname);
      if (p.endsWith('/')) p += 'index.html';
      const file = path.resolve(root, '.' + p);
      const top = path.relative(root, file).split(path.sep)[0];
      if (
        !file.startsWith(root + path.sep) ||
        !ALLOWED.includes(top) ||
        !fs.existsSync(file) ||
        !fs.statSync(file).isFile()
      ) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
        return;
      }
      const stat = fs.statSync(file);
      const etag = `"${stat.size}-${stat.mtimeMs}"`;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304);
        res.end();
        return;
      }
      const type = contentType(file);
      if (opts.cors) res.setHeader('access-control-allow-origin', '*');
      // Compressed as a CDN would serve it, when the browser asks (the page-weight figures count these bytes).
      const gzip =
        /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) &&
        stat.size > 1024 &&
        !type.startsWith('image/png');
      if (gzip) {
        const body = zlib.gzipSync(fs.readFileSync(file), { level: 6 });
        res.writeHead(200, {
          'content-type': type,
          'content-encoding': 'gzip',
          'content-length': body.length,
          etag,
          vary: 'accept-encoding',
          'cache-control': 'no-cache',
        });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      res.writeHead(200, { 'content-type': type, 'content-length': stat.size, etag, 'cache-control': 'no-cache' });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      fs.createReadStream(file).pipe(res);
    } catch (e) {
      res.writeHead(500);
      res.end(String(e));
    }
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const port = Number(process.env.PORT ?? 8080);
  createServer().listen(port, '127.0.0.1', () =>
    console.log(`shelfwise demo shop: http://localhost:${port}/  (model: /models/online-retail/model.json)`),
  );
}
