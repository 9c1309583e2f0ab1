// Reading ahead with no box in reach (issue 11): the service worker's registration, and
// "Tải về để đọc trước" — every published document of a meeting (its current version) put into
// that meeting's cache, which the service worker (src-sw/sw.ts) answers from, Range requests
// included. A version that changed is fetched again and the old one dropped.
import { boxNow } from './api';
import { currentVersion, type PreparedMeeting } from './prepare';
import { docsCacheName, DOCS_CACHE_PREFIX, DOWNLOADS_CHANGED } from './offlineNames';

/** Registers the service worker once the page has loaded (not where the browser has none). */
export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator) || !window.isSecureContext || import.meta.env.DEV) return;
  const go = () => void navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => undefined);
  if (document.readyState === 'complete') go();
  else window.addEventListener('load', go, { once: true });
}

/** Tells the service worker which documents it now answers for. */
function downloadsChanged(): void {
  navigator.serviceWorker?.controller?.postMessage({ type: DOWNLOADS_CHANGED });
}

/** The address of each published document's current version in `meeting`, with its size. */
export function offlineFiles(meeting: PreparedMeeting): { url: string; size: number }[] {
  const out: { url: string; size: number }[] = [];
  for (const doc of meeting.documents ?? []) {
    const v = currentVersion(doc);
    if (v) out.push({ url: new URL(v.url, location.origin).pathname, size: v.size });
  }
  return out;
}

export interface OfflineStatus {
  /** Current versions in the cache / published documents. */
  have: number;
  total: number;
  /** Bytes of the current versions kept. */
  bytes: number;
}

export interface StorageState {
  usage: number | null;
  quota: number | null;
  persisted: boolean | null;
}

export const offlineSupported = (): boolean => typeof caches !== 'undefined' && window.isSecureContext;

/** One meeting's downloads, for the meeting page. */
export class MeetingDownloads {
  readonly meetingId: string;
  status = $state<OfflineStatus>({ have: 0, total: 0, bytes: 0 });
  /** While downloading: documents done and to do. */
  progress = $state<{ done: number; of: number } | null>(null);
  failed = $state(false);
  storage = $state<StorageState>({ usage: null, quota: null, persisted: null });
  #busy = false;

  constructor(meetingId: string) {
    this.meetingId = meetingId;
  }

  /** Whether this meeting was downloaded (its cache exists), without creating it. */
  async downloaded(): Promise<boolean> {
    return offlineSupported() && (await caches.has(docsCacheName(this.meetingId)));
  }

  /** Counts what the cache holds of the meeting's current versions. */
  async refresh(meeting: PreparedMeeting): Promise<void> {
    const files = offlineFiles(meeting);
    let have = 0;
    let bytes = 0;
    if (await this.downloaded()) {
      const cache = await caches.open(docsCacheName(this.meetingId));
      for (const f of files) {
        if (await cache.match(f.url)) {
          have += 1;
          bytes += f.size;
        }
      }
    }
    this.status = { have, total: files.length, bytes };
    await this.refreshStorage();
  }

  async refreshStorage(): Promise<void> {
    const s = navigator.storage;
    const [est, persisted] = await Promise.all([
      s?.estimate ? s.estimate().catch(() => null) : Promise.resolve(null),
      s?.persisted ? s.persisted().catch(() => null) : Promise.resolve(null),
    ]);
    this.storage = { usage: est?.usage ?? null, quota: est?.quota ?? null, persisted };
  }

  /**
   * Downloads every current version not yet kept and drops the entries of older versions. The
   * meeting's JSON is fetched again first (in order: who I am, then the meeting and my list), so
   * that the service worker keeps the answers that open the meeting offline.
   */
  async download(meeting: PreparedMeeting): Promise<void> {
    if (this.#busy || !offlineSupported()) return;
    this.#busy = true;
    this.failed = false;
    try {
      // Ask once for storage the browser will not evict on its own (Safari: the home-screen app).
      if (navigator.storage?.persist && !(await navigator.storage.persisted?.())) await navigator.storage.persist().catch(() => false);
      for (const path of ['/api/me', `/api/meetings/${encodeURIComponent(this.meetingId)}`, '/api/meetings']) {
        await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } }).catch(() => null);
      }
      await this.sync(meeting);
    } catch {
      this.failed = true;
    } finally {
      this.progress = null;
      this.#busy = false;
      await this.refresh(meeting).catch(() => undefined);
    }
  }

  /** After a new version was published: fetch what changed, drop what is no longer current. */
  async update(meeting: PreparedMeeting): Promise<void> {
    if (this.#busy || !(await this.downloaded())) return this.refresh(meeting);
    if (!navigator.onLine) return this.refresh(meeting);
    this.#busy = true;
    try {
      await this.sync(meeting);
    } catch {
      // Offline or the box is gone: the next visit tries again.
    } finally {
      this.progress = null;
      this.#busy = false;
      await this.refresh(meeting).catch(() => undefined);
    }
  }

  async sync(meeting: PreparedMeeting): Promise<void> {
    const cache = await caches.open(docsCacheName(this.meetingId));
    const files = offlineFiles(meeting);
    const wanted = new Set(files.map((f) => f.url));
    for (const req of await cache.keys()) {
      if (!wanted.has(new URL(req.url).pathname)) await cache.delete(req);
    }
    this.progress = { done: 0, of: files.length };
    let failed = false;
    for (const f of files) {
      if (!(await cache.match(f.url))) {
        const res = await fetch(f.url, { credentials: 'same-origin' }).catch(() => null);
        // Only a whole file (200) is kept; the service worker cuts Range pieces from it.
        if (res && res.status === 200) await cache.put(f.url, res);
        else failed = true;
      }
      this.progress = { done: this.progress.done + 1, of: files.length };
    }
    downloadsChanged();
    if (failed) this.failed = true;
  }

  /** "Xóa bản tải về": drops this meeting's documents. */
  async clear(meeting: PreparedMeeting): Promise<void> {
    if (offlineSupported()) await caches.delete(docsCacheName(this.meetingId));
    downloadsChanged();
    await this.refresh(meeting);
  }
}

// ---- every download on this tablet (the meetings list) ---------------------------------------

/** Downloads of meetings that ended this long ago are dropped by themselves. */
export const AUTO_CLEAR_DAYS = 30;

/** What the meetings list needs to know of a meeting to judge its download. */
export interface MeetingAge {
  id: string;
  starts_at: string;
  live_phase?: string;
}

/** The meetings this tablet keeps documents of (from the caches' names). */
export async function downloadedMeetings(): Promise<string[]> {
  if (!offlineSupported()) return [];
  return (await caches.keys()).filter((n) => n.startsWith(DOCS_CACHE_PREFIX)).map((n) => n.slice(DOCS_CACHE_PREFIX.length));
}

/**
 * Downloads one no longer needs: a meeting that has ended, or one no longer in `meetings` (not
 * published any more, or the tablet is paired to someone else now). With `olderThanDays`, only
 * ended meetings that started at least that long ago, by the box's clock as last seen (a tablet
 * whose own clock is a month fast does not drop what it will read tomorrow).
 */
export function finished(downloaded: string[], meetings: MeetingAge[], olderThanDays?: number): string[] {
  const byId = new Map(meetings.map((m) => [m.id, m]));
  const cutoff = olderThanDays === undefined ? null : boxNow() - olderThanDays * 86_400_000;
  return downloaded.filter((id) => {
    const m = byId.get(id);
    if (!m) return cutoff === null;
    if (m.live_phase !== 'ended') return false;
    return cutoff === null || new Date(m.starts_at).getTime() <= cutoff;
  });
}

/** Drops the downloads of these meetings. */
export async function clearDownloads(ids: string[]): Promise<void> {
  if (!offlineSupported()) return;
  for (const id of ids) await caches.delete(docsCacheName(id));
  downloadsChanged();
}

/** The storage the browser gives this app, and whether it may evict it. */
export async function storageState(): Promise<StorageState> {
  const s = navigator.storage;
  const [est, persisted] = await Promise.all([
    s?.estimate ? s.estimate().catch(() => null) : Promise.resolve(null),
    s?.persisted ? s.persisted().catch(() => null) : Promise.resolve(null),
  ]);
  return { usage: est?.usage ?? null, quota: est?.quota ?? null, persisted };
}

/** Asks the browser to keep this app's storage (Safari grants it to the home-screen app). */
export async function askPersist(): Promise<boolean> {
  return navigator.storage?.persist ? navigator.storage.persist().catch(() => false) : false;
}
