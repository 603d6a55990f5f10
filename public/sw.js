// Ponder's service worker: the site works offline once visited.
//
// A release is one unit. The build writes this release's manifest below (every file the
// site keeps for offline visits, with its SHA-256; `cargo xtask release`, which Trunk runs
// after each build), so a new release is a new sw.js, which the browser installs beside
// the old one. Installing fetches every file of the manifest, checks each against its
// digest and keeps them in a cache of the release's own; if a file cannot be fetched, or
// is not this release's (a deploy in the middle), the install fails and the old release
// stays in use, whole. Only a complete cache is activated, and activating deletes the
// other releases' caches: the kept site never mixes two releases.
//
// Every request goes to the network first, and its response is passed on as it arrives
// (a model download shows its progress as it streams). Nothing is written to the cache
// then: the cache holds exactly the installed release. Only when the network fails does
// the kept copy answer.

// Written by the build; a service worker without a manifest refuses to install.
const RELEASE = {"id":"unbuilt","files":[]};

const SCOPE = new URL(self.registration.scope);
// Caches are shared by every site on an origin, so the name holds the site's path too.
const PREFIX = `ponder ${SCOPE.pathname} `;
const CACHE = PREFIX + RELEASE.id;

// The page: the site's folder or its index.html, with any query.
function isPage(url) {
  return url.origin === SCOPE.origin
    && (url.pathname === SCOPE.pathname || url.pathname === `${SCOPE.pathname}index.html`);
}

// Where a manifest path is kept: the page under its folder's URL, the rest under their own.
function keyOf(path) {
  return new URL(path === 'index.html' ? './' : path, SCOPE).href;
}

async function sha256(buffer) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', buffer));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    if (RELEASE.files.length === 0) {
      throw new Error('this sw.js has no release manifest: build the site with trunk');
    }
    const cache = await caches.open(CACHE);
    try {
      await Promise.all(RELEASE.files.map(async (file) => {
        const response = await fetch(new URL(file.path, SCOPE), { cache: 'no-cache' });
        if (!response.ok) throw new Error(`${file.path}: HTTP ${response.status}`);
        const body = await response.arrayBuffer();
        if (await sha256(body) !== file.sha256) {
          throw new Error(`${file.path} is not release ${RELEASE.id}'s file (deployed since?)`);
        }
        await cache.put(keyOf(file.path), new Response(body, {
          status: response.status,
          statusText: response.statusText,
          headers: response.headers,
        }));
      }));
    } catch (error) {
      // A partial release is never used: the one before stays active, whole.
      await caches.delete(CACHE);
      throw error;
    }
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      // Earlier releases of this site, and the single cache releases before manifests used.
      if ((name.startsWith(PREFIX) && name !== CACHE) || name === 'ponder-site') {
        await caches.delete(name);
      }
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== SCOPE.origin) return;
  event.respondWith((async () => {
    try {
      return await fetch(request);
    } catch (offline) {
      const cache = await caches.open(CACHE);
      // The page is kept once and opens with any query; any other request, a navigation
      // to a model file included, is answered only by its own file.
      const kept = request.mode === 'navigate' && isPage(url)
        ? await cache.match(keyOf('index.html'))
        : await cache.match(request);
      if (kept) return kept;
      throw offline;
    }
  })());
});
