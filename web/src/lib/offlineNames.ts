// Names shared by the service worker (src-sw/sw.ts) and the page (offline.svelte.ts).

/** The read-only JSON a delegate needs to open a meeting offline (network first). */
export const API_CACHE = 'phonghop-api';

/**
 * Set by the service worker on an answer it gave from its cache (the box was out of reach): the
 * answer's `Date` is when the box sent it then, not the box's time now.
 */
export const FROM_CACHE_HEADER = 'X-Phonghop-From-Cache';

/** One cache per meeting downloaded with "Tải về để đọc trước": its documents' current versions. */
export const DOCS_CACHE_PREFIX = 'phonghop-docs-';

export function docsCacheName(meetingId: string): string {
  return DOCS_CACHE_PREFIX + meetingId;
}

/** GET paths whose answers the service worker keeps for a paired tablet: who am I, my meetings, one meeting, my marks on it. */
export function isOfflineJson(pathname: string): boolean {
  return (
    pathname === '/api/me' ||
    pathname === '/api/meetings' ||
    /^\/api\/meetings\/[0-9A-Za-z_-]+$/.test(pathname) ||
    // The tablet's own marks and notes, to read them with no box in reach.
    /^\/api\/meetings\/[0-9A-Za-z_-]+\/annotations$/.test(pathname)
  );
}

/** A document version's bytes: content-addressed, so a new version is a new address. */
export function isBlob(pathname: string): boolean {
  return /^\/api\/blobs\/[0-9a-f]{64}$/.test(pathname);
}

/** The page's message to the service worker after it downloaded or deleted documents. */
export const DOWNLOADS_CHANGED = 'phonghop-downloads-changed';
