// Ponder's service worker: the site works offline once visited.
//
// Installing it fetches the page, the files the page names, the inference worker and the
// built-in models, and keeps them. Afterwards every request goes to the network first and
// the answer replaces the kept copy, so an online visit always runs the newest release
// whole; only without a network does the kept copy answer. When a fresh index.html comes
// in, kept files of other releases (the build's hashed names) are dropped, so a release
// never mixes with the one before it.

const CACHE = 'ponder-site';
const FIXED = [
  './',
  'worker_loader.js',
  'worker.js',
  'worker_bg.wasm',
  'models/ponder-s.gguf',
  'models/ponder-r.gguf',
  'models/ponder-prm.gguf',
  'problems/test.json',
  'problems/validation.json',
];

// The files an index.html names (scripts, styles, preloads, icons), relative to the site.
function named(html) {
  const found = new Set();
  for (const m of html.matchAll(/(?:href|src)="([^"#?]+)"/g)) {
    const url = m[1].replace(/^\.\//, '');
    if (url && !/^[a-z]+:/i.test(url) && !url.startsWith('/')) found.add(url);
  }
  return [...found];
}

// Drops kept files of other releases: hashed names ("name-0123456789abcdef.ext") that
// this index.html does not name.
async function prune(cache, html) {
  const current = new Set(named(html).map((u) => new URL(u, self.registration.scope).href));
  for (const request of await cache.keys()) {
    const hashed = /-[0-9a-f]{16}(_bg)?\.[a-z]+$/.test(new URL(request.url).pathname);
    if (hashed && !current.has(request.url)) await cache.delete(request);
  }
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    const page = await fetch('./', { cache: 'no-cache' });
    const html = await page.clone().text();
    await cache.put('./', page);
    const files = [...new Set([...FIXED.slice(1), ...named(html)])];
    await Promise.all(files.map(async (file) => {
      const response = await fetch(file, { cache: 'no-cache' });
      if (response.ok) await cache.put(file, response);
    }));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    // A page load with any query is the same page: keep it under one key.
    const key = request.mode === 'navigate' ? new URL('./', self.registration.scope).href : request;
    try {
      const response = await fetch(request);
      if (response.ok) {
        await cache.put(key, response.clone());
        if (request.mode === 'navigate') await prune(cache, await response.clone().text());
      }
      return response;
    } catch (offline) {
      const kept = await cache.match(key, { ignoreSearch: request.mode === 'navigate' });
      if (kept) return kept;
      throw offline;
    }
  })());
});
