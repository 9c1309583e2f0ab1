// A meeting's live feed (`GET /api/meetings/{id}/events`) for the delegate's tablet, the chair's
// console and the secretary's screens. The screen reads its snapshot once; from then on it
// applies each event itself (reducers.ts), and fetches again only when it cannot apply one: a
// kind it does not know that names its meeting, or a record it does not hold. A dropped link
// does not cost a fetch: the feed resumes from the last event seen (`Last-Event-ID`, or `since`
// for a fresh connection) and the box replays exactly what was missed.
import { getJson } from './api';
import { KNOWN_KINDS, meetingOf, type LiveEvent } from './reducers';
import type { ConnectionStatus } from './room.svelte';
import type { RoomInfo } from './types';
import type { VoteProgress } from './generated/contract';

const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 15_000;

/** What a screen does with one event. */
export type Applied = 'applied' | 'ignored' | 'refetch';

export interface FeedScreen {
  /** Reads the whole snapshot (at start, and when an event cannot be applied). */
  load: () => Promise<void>;
  /** Applies one event to what the screen shows. */
  apply: (ev: LiveEvent) => Applied;
  /**
   * Staff screens: runs (and the feed stops) when the feed was refused because the visitor is
   * nobody any more, e.g. the IT admin ended their sessions, disabled the account or reset its
   * password. Without it the feed keeps retrying.
   */
  signedOut?: () => void;
  /**
   * The coalesced "N have voted" counter while a vote is open. It is not a logged event (no
   * seq): it never moves the resume point and never asks for a snapshot.
   */
  progress?: (p: VoteProgress) => void;
}

export class MeetingFeed {
  status = $state<ConnectionStatus>('connecting');
  /** Snapshots read so far (the first one included): for tests and the curious. */
  loads = $state(0);

  #source: EventSource | null = null;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #delay = RETRY_MIN_MS;
  #stopped = true;
  /** The last event applied (or the log's head when the snapshot was read). */
  #seq: number | null = null;
  /** Events that arrived while a snapshot was being read, applied after it. */
  #queue: LiveEvent[] = [];
  #loading = false;
  #again = false;
  readonly #meetingId: string;
  readonly #url: string;
  readonly #screen: FeedScreen;

  constructor(meetingId: string, screen: FeedScreen) {
    this.#meetingId = meetingId;
    this.#url = `/api/meetings/${encodeURIComponent(meetingId)}/events`;
    this.#screen = screen;
  }

  /** Reads where the log is, opens the feed from there, then reads the snapshot. */
  async start(): Promise<void> {
    if (!this.#stopped) return;
    this.#stopped = false;
    document.addEventListener('visibilitychange', this.#onVisible);
    window.addEventListener('online', this.#onVisible);
    try {
      // Everything after this point reaches us as an event, so the snapshot read next can only
      // be newer; an event it already holds is applied twice, which changes nothing.
      this.#seq = (await getJson<RoomInfo>('/api/room')).head_seq;
    } catch {
      this.#seq = null; // The feed then starts at the head, and a reconnect reads afresh.
    }
    if (this.#stopped) return;
    this.#connect();
    this.reload();
  }

  stop(): void {
    this.#stopped = true;
    document.removeEventListener('visibilitychange', this.#onVisible);
    window.removeEventListener('online', this.#onVisible);
    clearTimeout(this.#retry);
    this.#source?.close();
    this.#source = null;
  }

  /** Reads the snapshot again; calls made while one is read collapse into one more read. */
  reload(): void {
    if (this.#loading) {
      this.#again = true;
      return;
    }
    this.#loading = true;
    void (async () => {
      try {
        do {
          this.#again = false;
          this.loads += 1;
          await this.#screen.load();
        } while (this.#again && !this.#stopped);
      } finally {
        this.#loading = false;
        const queued = this.#queue;
        this.#queue = [];
        for (const ev of queued) this.#handle(ev);
      }
    })();
  }

  #connect(): void {
    this.#source?.close();
    clearTimeout(this.#retry);
    const url = this.#seq === null ? this.#url : `${this.#url}?since=${this.#seq}`;
    const source = new EventSource(url);
    this.#source = source;
    let opened = false;
    source.addEventListener('open', () => {
      if (this.#source !== source) return;
      this.status = 'connected';
      this.#delay = RETRY_MIN_MS;
      // Reopened without knowing where we were: what was missed cannot be replayed.
      if (opened && this.#seq === null) this.reload();
      opened = true;
    });
    source.addEventListener('error', () => {
      if (this.#source !== source) return;
      this.status = navigator.onLine ? 'reconnecting' : 'offline';
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        this.#source = null;
        if (this.#stopped) return;
        // The box refused the feed (EventSource does not say why): one plain request through
        // the API client finds out, and a revoked tablet is told so on every screen.
        void getJson<{ kind?: string }>('/api/me')
          .then((me) => {
            if (me.kind === 'anonymous' && this.#screen.signedOut && !this.#stopped) {
              this.stop();
              this.#screen.signedOut();
            }
          })
          .catch(() => undefined);
        this.#retry = setTimeout(() => this.#connect(), this.#delay);
        this.#delay = Math.min(this.#delay * 2, RETRY_MAX_MS);
      }
    });
    source.addEventListener('message', (e) => this.#receive(source, e));
    // EventSource hands a named event only to listeners of that name: a kind this page was
    // built without never reaches it, so every kind that names a meeting is in KNOWN_KINDS.
    for (const kind of KNOWN_KINDS) source.addEventListener(kind, (e) => this.#receive(source, e));
    source.addEventListener('vote.progress', (e) => {
      if (this.#source !== source || !this.#screen.progress) return;
      try {
        const msg = JSON.parse((e as MessageEvent<string>).data) as { body?: VoteProgress };
        if (msg.body && typeof msg.body.cast === 'number') this.#screen.progress(msg.body);
      } catch {
        // A malformed counter is dropped; the next one, or the list, has the count.
      }
    });
  }

  #receive(source: EventSource, e: Event): void {
    if (this.#source !== source) return;
    let ev: LiveEvent;
    try {
      ev = JSON.parse((e as MessageEvent<string>).data) as LiveEvent;
    } catch {
      this.reload();
      return;
    }
    if (this.status !== 'connected' && source.readyState === EventSource.OPEN) this.status = 'connected';
    if (this.#loading) {
      this.#queue.push(ev);
      return;
    }
    this.#handle(ev);
  }

  #handle(ev: LiveEvent): void {
    if (typeof ev.seq !== 'number' || typeof ev.kind !== 'string') {
      this.reload();
      return;
    }
    if (this.#seq !== null && ev.seq <= this.#seq) return; // already applied
    this.#seq = ev.seq;
    const known = KNOWN_KINDS.has(ev.kind);
    const outcome: Applied = known ? this.#screen.apply(ev) : meetingOf(ev) === this.#meetingId ? 'refetch' : 'ignored';
    if (outcome === 'refetch') this.reload();
  }

  /** Shown again, or the Wi-Fi is back: reconnect now rather than when the back-off says. */
  #onVisible = (): void => {
    if (this.#stopped || document.visibilityState !== 'visible') return;
    if (this.#source?.readyState !== EventSource.OPEN) this.#connect();
  };
}
