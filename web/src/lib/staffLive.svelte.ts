// A meeting's live feed (`GET /api/meetings/{id}/events`) for the desk and the chair console:
// each event kind runs a handler (usually "fetch again"), and every (re)connect fetches afresh,
// so nothing missed while the link was down stays missing.
import type { ConnectionStatus } from './room.svelte';
import { staffApi } from './staffApi';

const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 15_000;

export class MeetingFeed {
  status = $state<ConnectionStatus>('connecting');

  #source: EventSource | null = null;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #delay = RETRY_MIN_MS;
  #stopped = true;
  readonly #url: string;
  readonly #handlers: Record<string, () => void>;
  readonly #onOpen: () => void;
  readonly #onSignedOut: (() => void) | undefined;

  /**
   * `handlers`: event kind → what to do; `onOpen`: runs on every (re)connect; `onSignedOut`:
   * runs (and the feed stops) when the feed is refused because the visitor is nobody any more,
   * e.g. the IT admin ended their sessions, disabled the account or reset its password.
   */
  constructor(meetingId: string, handlers: Record<string, () => void>, onOpen: () => void, onSignedOut?: () => void) {
    this.#url = staffApi.eventsUrl(meetingId);
    this.#handlers = handlers;
    this.#onOpen = onOpen;
    this.#onSignedOut = onSignedOut;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    document.addEventListener('visibilitychange', this.#onVisible);
    this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    document.removeEventListener('visibilitychange', this.#onVisible);
    clearTimeout(this.#retry);
    this.#source?.close();
    this.#source = null;
  }

  #connect(): void {
    this.#source?.close();
    clearTimeout(this.#retry);
    const source = new EventSource(this.#url);
    this.#source = source;
    source.addEventListener('open', () => {
      if (this.#source !== source) return;
      this.status = 'connected';
      this.#delay = RETRY_MIN_MS;
      this.#onOpen();
    });
    source.addEventListener('error', () => {
      if (this.#source !== source) return;
      this.status = navigator.onLine ? 'reconnecting' : 'offline';
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        this.#source = null;
        if (this.#stopped) return;
        this.#retry = setTimeout(() => this.#connect(), this.#delay);
        this.#delay = Math.min(this.#delay * 2, RETRY_MAX_MS);
        if (this.#onSignedOut) void this.#checkSignedOut(this.#onSignedOut);
      }
    });
    for (const [kind, handler] of Object.entries(this.#handlers)) {
      source.addEventListener(kind, () => {
        if (this.#source === source) handler();
      });
    }
  }

  /** Asks who the visitor is now; if nobody, stops and says so. */
  async #checkSignedOut(then: () => void): Promise<void> {
    try {
      const me = await staffApi.me();
      if (me.kind === 'anonymous' && !this.#stopped) {
        this.stop();
        then();
      }
    } catch {
      // Unreachable box or a revoked tablet: keep retrying as before.
    }
  }

  #onVisible = (): void => {
    if (this.#stopped || document.visibilityState !== 'visible') return;
    if (this.#source?.readyState !== EventSource.OPEN) this.#connect();
  };
}

/**
 * Wraps a fetch so that calls made while one runs collapse into one more run afterwards:
 * a burst of ten check-ins costs two requests, and the last answer is always the newest.
 */
export function coalesce(run: () => Promise<void>): () => void {
  let running = false;
  let again = false;
  const go = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await run();
      } while (again);
    } finally {
      running = false;
    }
  };
  return () => void go();
}
