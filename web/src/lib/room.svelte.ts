// The room as this device sees it: name, latest notice, and whether the live feed is up.
// One instance per page, shared by every screen (all of them show the connection status).
import { ApiError, getJson } from './api';
import type { Notice, RoomEvent, RoomInfo } from './types';
import type { ApiErrorBody } from './i18n';
import { node } from './node.svelte';

export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'offline';

/** After this long without the feed, "reconnecting" becomes "offline". */
const OFFLINE_AFTER_MS = 20_000;
/** Back-off when the browser gives up on the stream by itself (EventSource CLOSED). */
const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 15_000;
/** A tablet asleep longer than this may hold a dead connection: open a fresh one on wake. */
const STALE_AFTER_HIDDEN_MS = 30_000;

export class RoomLive {
  name = $state<string | null>(null);
  notice = $state<Notice | null>(null);
  status = $state<ConnectionStatus>('connecting');
  /** Why the room details could not be loaded, if they could not. */
  loadError = $state<ApiErrorBody | null>(null);

  /** Highest event seq applied; a snapshot older than this is ignored. */
  #seq = -1;
  /** The box that the snapshot came from; a different box (reset or replaced) restarts the count. */
  #nodeId: string | null = null;
  #source: EventSource | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #offlineTimer: ReturnType<typeof setTimeout> | undefined;
  #retryDelay = RETRY_MIN_MS;
  #hiddenAt = 0;
  #fetching: AbortController | null = null;
  #stopped = true;
  readonly #url: string;

  constructor(url = '/api/room/events') {
    this.#url = url;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    window.addEventListener('online', this.#onOnline);
    window.addEventListener('offline', this.#onOffline);
    document.addEventListener('visibilitychange', this.#onVisibility);
    if (!navigator.onLine) this.status = 'offline';
    void this.refresh();
    this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    window.removeEventListener('online', this.#onOnline);
    window.removeEventListener('offline', this.#onOffline);
    document.removeEventListener('visibilitychange', this.#onVisibility);
    this.#fetching?.abort();
    this.#closeSource();
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#offlineTimer);
  }

  /** Re-reads `GET /api/room`: on start and every time the feed (re)opens. */
  async refresh(attempt = 1): Promise<void> {
    this.#fetching?.abort();
    const ctl = new AbortController();
    this.#fetching = ctl;
    try {
      const room = await getJson<RoomInfo>('/api/room', ctl.signal);
      const sameBox = room.node_id === this.#nodeId;
      if (sameBox && room.head_seq < this.#seq) {
        // Taken before events already applied here: ask again rather than go back in time.
        if (attempt < 3) void this.refresh(attempt + 1);
        return;
      }
      const replaced = !sameBox && this.#nodeId !== null;
      this.#nodeId = room.node_id;
      this.#seq = room.head_seq;
      // Another box answers now (reset or swapped): its numbering is not ours, start the feed over.
      if (replaced && !this.#stopped) this.#connect();
      this.name = room.name;
      node.role = room.role;
      this.notice = room.notice;
      this.loadError = null;
    } catch (e) {
      if (ctl.signal.aborted) return;
      this.loadError = e instanceof ApiError ? e.body : { code: 'unknown' };
    } finally {
      if (this.#fetching === ctl) this.#fetching = null;
    }
  }

  #connect(): void {
    this.#closeSource();
    clearTimeout(this.#retryTimer);
    // A fresh EventSource sends no Last-Event-ID; `since` lets the box replay what was missed.
    const url = this.#seq >= 0 ? `${this.#url}?since=${this.#seq}` : this.#url;
    const source = new EventSource(url);
    this.#source = source;
    source.addEventListener('open', () => {
      if (this.#source !== source) return;
      this.status = 'connected';
      this.#retryDelay = RETRY_MIN_MS;
      clearTimeout(this.#offlineTimer);
      this.#offlineTimer = undefined;
      // Events may have been missed while away (or before the first open): take a fresh snapshot.
      void this.refresh();
    });
    source.addEventListener('error', () => {
      if (this.#source !== source) return;
      this.#lost();
      if (source.readyState === EventSource.CLOSED) {
        // The browser will not retry by itself (e.g. an HTTP error): retry with back-off.
        this.#closeSource();
        this.#retryTimer = setTimeout(() => this.#connect(), this.#retryDelay);
        this.#retryDelay = Math.min(this.#retryDelay * 2, RETRY_MAX_MS);
      }
    });
    source.addEventListener('room.renamed', (e) => this.#apply<{ name: string }>(e, (b) => (this.name = b.name)));
    source.addEventListener('notice.posted', (e) =>
      this.#apply<{ text: string }>(e, (b, ev) => (this.notice = { text: b.text, at: ev.at })),
    );
    source.addEventListener('notice.cleared', (e) => this.#apply(e, () => (this.notice = null)));
  }

  #apply<B>(e: Event, update: (body: B, event: RoomEvent<B>) => void): void {
    let ev: RoomEvent<B>;
    try {
      ev = JSON.parse((e as MessageEvent<string>).data) as RoomEvent<B>;
    } catch {
      return;
    }
    // An event through an open stream proves the link works, whatever navigator.onLine says.
    if (this.#source?.readyState === EventSource.OPEN) this.status = 'connected';
    if (typeof ev.seq === 'number') {
      if (ev.seq <= this.#seq) return; // already in the snapshot
      this.#seq = ev.seq;
    }
    update(ev.body, ev);
  }

  /** The feed dropped: show "reconnecting", and "offline" if it stays down. */
  #lost(): void {
    if (!navigator.onLine) {
      this.status = 'offline';
      return;
    }
    if (this.status !== 'offline') this.status = 'reconnecting';
    if (this.#offlineTimer === undefined) {
      this.#offlineTimer = setTimeout(() => {
        if (this.status !== 'connected') this.status = 'offline';
      }, OFFLINE_AFTER_MS);
    }
  }

  #closeSource(): void {
    this.#source?.close();
    this.#source = null;
  }

  #onOnline = (): void => {
    if (this.#stopped) return;
    // The old stream may be dead without knowing it: open a fresh one ("open" says connected).
    this.status = 'reconnecting';
    this.#connect();
  };

  #onOffline = (): void => {
    this.status = 'offline';
  };

  #onVisibility = (): void => {
    if (document.visibilityState === 'hidden') {
      this.#hiddenAt = Date.now();
      return;
    }
    if (this.#stopped) return;
    const longAway = this.#hiddenAt > 0 && Date.now() - this.#hiddenAt > STALE_AFTER_HIDDEN_MS;
    if (longAway || this.#source?.readyState !== EventSource.OPEN) this.#connect();
  };
}
