// A static server for the offline tests: a built site under a sub-path, as a static host
// serves it, on one origin while the test switches what it serves (one release, then
// another) and then stops it (the network gone, as far as the page can tell).
//
// Every answer says `Cache-Control: no-store`, so the browser's HTTP cache keeps nothing:
// once the server is stopped, whatever the page still gets came from the service
// worker's cache.

import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { join, normalize, sep } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
};

/**
 * Serves `root` at http://127.0.0.1:PORT{prefix}; returns { url, serve(root), stop() }.
 */
export async function serveSite(root, prefix = '/ponder/offline/') {
  let current = root;
  const sockets = new Set();
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const headers = { 'Cache-Control': 'no-store' };
    if (!path.startsWith(prefix) || req.method !== 'GET') {
      res.writeHead(404, headers).end('not found\n');
      return;
    }
    let file = normalize(join(current, path.slice(prefix.length)));
    if (!file.startsWith(current + sep) && file !== current) {
      res.writeHead(404, headers).end('not found\n');
      return;
    }
    try {
      if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
      const body = await readFile(file);
      const ext = file.slice(file.lastIndexOf('.'));
      res.writeHead(200, { ...headers, 'Content-Type': TYPES[ext] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404, headers).end('not found\n');
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    /** Serves another folder from now on (a new release deployed). */
    serve(next) {
      current = next;
    },
    /** Stops listening and drops open connections: every request fails from now on. */
    async stop() {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
