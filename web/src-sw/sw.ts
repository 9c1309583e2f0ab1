// The service worker (issue 11, offline). It keeps three things, and nothing else:
// 1. the app shell, precached at install (index.html, every JS/CSS chunk, pdf.js's worker, decoders
//    and fonts, the icons): the app opens with no network;
// 2. for a paired tablet only, the read-only JSON that opens a meeting (`/api/me`, `/api/meetings`,
//    `/api/meetings/{id}`), network first with the last answer as the fallback;
// 3. the documents a delegate downloaded with "Tải về để đọc trước", one cache per meeting, filled
//    by the page (src/lib/offline.svelte.ts); served cache first (they are content-addressed and
//    never change), Range requests answered from the cached copy.
// Writes (POST/PUT/DELETE) and the live feeds (SSE) are never routed here, so they always go to
// the box. A staff account's answers are never kept; a revoked or unpaired device drops it all.
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { NetworkFirst } from 'workbox-strategies';
import { createPartialResponse } from 'workbox-range-requests';
import type { WorkboxPlugin } from 'workbox-core/types';
import { API_CACHE, DOCS_CACHE_PREFIX, DOWNLOADS_CHANGED, FROM_CACHE_HEADER, isBlob, isOfflineJson } from '../src/lib/offlineNames';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: Array<{ url: string; revision: string | null } | string> };

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

// A new build takes over at once: its shell is complete before it activates.
self.addEventListener('install', () => void self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

// Every client-side route loads the precached app; the API is never a navigation to the shell.
registerRoute(new NavigationRoute(createHandlerBoundToURL('/index.html'), { denylist: [/^\/api\//] }));

/** Drops everything kept for a person: the JSON and every downloaded meeting. */
async function forgetAll(): Promise<void> {
  const names = await caches.keys();
  await Promise.all(names.filter((n) => n === API_CACHE || n.startsWith(DOCS_CACHE_PREFIX)).map((n) => caches.delete(n)));
  downloadedPaths = new Set();
}

/** Whether the last `/api/me` kept says this is a paired tablet. */
async function pairedDevice(): Promise<boolean> {
  const me = await (await caches.open(API_CACHE)).match('/api/me');
  if (!me) return false;
  try {
    return ((await me.json()) as { kind?: string }).kind === 'device';
  } catch {
    return false;
  }
}

const delegateOnly: WorkboxPlugin = {
  // One entry per path: the query (none is used today) never makes a second copy.
  cacheKeyWillBeUsed: async ({ request }) => new URL(request.url).pathname,
  cacheWillUpdate: async ({ request, response }) => {
    if (response.status !== 200) return null;
    if (new URL(request.url).pathname === '/api/me') {
      let kind: string | undefined;
      try {
        kind = ((await response.clone().json()) as { kind?: string }).kind;
      } catch {
        kind = undefined;
      }
      if (kind === 'device') return response;
      // A staff account, a projector screen or nobody: keep nothing of theirs.
      await caches.delete(API_CACHE);
      if (kind === 'anonymous') await forgetAll();
      return null;
    }
    return (await pairedDevice()) ? response : null;
  },
  cachedResponseWillBeUsed: async ({ cachedResponse }) => {
    // Marked, so that the page does not take its old `Date` for the box's clock now.
    if (!cachedResponse) return cachedResponse;
    const headers = new Headers(cachedResponse.headers);
    headers.set(FROM_CACHE_HEADER, '1');
    return new Response(cachedResponse.body, { status: cachedResponse.status, statusText: cachedResponse.statusText, headers });
  },
  fetchDidSucceed: async ({ request, response }) => {
    // This tablet was revoked or unpaired: what it kept is no longer its to read.
    if (response.status === 401 && new URL(request.url).pathname === '/api/me') await forgetAll();
    return response;
  },
};

registerRoute(
  ({ url, request }) => url.origin === self.location.origin && request.method === 'GET' && isOfflineJson(url.pathname),
  new NetworkFirst({ cacheName: API_CACHE, plugins: [delegateOnly], networkTimeoutSeconds: 8 }),
);

/**
 * The paths of every downloaded version, so that a document not downloaded is not routed here at
 * all: the browser then fetches it itself, and a request pdf.js drops is dropped on the network
 * too (a 50 MB file is not pulled through the worker). Null until read (at each start of the
 * worker); meanwhile every document request is checked against the caches.
 */
let downloadedPaths: Set<string> | null = null;

async function indexDownloads(): Promise<void> {
  const paths = new Set<string>();
  for (const name of await caches.keys()) {
    if (!name.startsWith(DOCS_CACHE_PREFIX)) continue;
    for (const req of await (await caches.open(name)).keys()) paths.add(new URL(req.url).pathname);
  }
  downloadedPaths = paths;
}
void indexDownloads();

// The page downloaded or deleted a meeting's documents (src/lib/offline.svelte.ts).
self.addEventListener('message', (event) => {
  if ((event.data as { type?: string } | null)?.type === DOWNLOADS_CHANGED) event.waitUntil(indexDownloads());
});

/** A downloaded document version, from whichever meeting's cache holds it. */
async function downloaded(path: string): Promise<Response | undefined> {
  for (const name of await caches.keys()) {
    if (!name.startsWith(DOCS_CACHE_PREFIX)) continue;
    const hit = await (await caches.open(name)).match(path);
    if (hit) return hit;
  }
  return undefined;
}

registerRoute(
  ({ url, request }) =>
    url.origin === self.location.origin && request.method === 'GET' && isBlob(url.pathname) && (downloadedPaths === null || downloadedPaths.has(url.pathname)),
  async ({ request, url }) => {
    const hit = await downloaded(url.pathname);
    if (!hit) return fetch(request);
    // pdf.js asks for 64 kB pieces: cut them from the cached file.
    return request.headers.has('range') ? createPartialResponse(request, hit) : hit;
  },
);
