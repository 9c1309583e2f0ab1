// The live meeting on the delegate's tablet: the box's LiveView (`GET /live`) with the feed's
// events applied by applyLive, the box's clock for countdowns, the request to speak sent with one
// id per tap and retried with that id when the Wi-Fi drops it, and "follow me" (whether this
// tablet follows the chair, kept per tab in sessionStorage so a reload keeps it).
import { ApiError, request, sendJson } from './api';
import { applyLive, BoxClock, type LiveView, type SpeechKind } from './liveReducer';
import type { Applied } from './live.svelte';
import { LIVE_KINDS, meetingOf, type LiveEvent } from './reducers';

const LIVE: ReadonlySet<string> = new Set(LIVE_KINDS);

const seg = encodeURIComponent;

export const liveApi = {
  view: (id: string) => request<LiveView>('GET', `/api/meetings/${seg(id)}/live`),
  ask: (id: string, requestId: string, kind: SpeechKind) =>
    sendJson<LiveView>('POST', `/api/meetings/${seg(id)}/live/speakers`, { request_id: requestId, kind }),
  withdraw: (id: string, requestId: string) => sendJson<LiveView>('DELETE', `/api/meetings/${seg(id)}/live/speakers/${seg(requestId)}`),
};

/** The kinds a delegate may ask for, in the order the tablet offers them. */
export const KINDS: readonly SpeechKind[] = ['opinion', 'question', 'reply', 'procedural'];

/** A delegate or guest asks to speak and follows the chair; the chair's and staff's screens do not. */
export function isParticipant(v: LiveView | null): boolean {
  return v !== null && (v.role === 'delegate' || v.role === 'guest');
}

// ---- follow me ----------------------------------------------------------------------------------

const LEFT_KEY = 'phonghop.follow.left.';
/** This tab's "I left the chair's document" per meeting; sessionStorage keeps it over a reload. */
const leftState = $state<Record<string, boolean>>({});

/** Whether this tablet left the chair's "follow me" in this meeting. */
export function followLeft(meetingId: string): boolean {
  const known = leftState[meetingId];
  if (known !== undefined) return known;
  try {
    return sessionStorage.getItem(LEFT_KEY + meetingId) === '1';
  } catch {
    return false;
  }
}

export function setFollowLeft(meetingId: string, left: boolean): void {
  leftState[meetingId] = left;
  try {
    if (left) sessionStorage.setItem(LEFT_KEY + meetingId, '1');
    else sessionStorage.removeItem(LEFT_KEY + meetingId);
  } catch {
    // Storage off: the choice holds until the page is reloaded.
  }
}

/** The document and page the chair shows, if this viewer may see it. */
export interface FollowTarget {
  documentId: string;
  page: number;
  since: string;
}

export function followTarget(v: LiveView | null): FollowTarget | null {
  const f = v?.follow;
  if (!f || f.hidden || !f.document_id || f.page === null) return null;
  return { documentId: f.document_id, page: f.page, since: f.since ?? '' };
}

// ---- the view ----------------------------------------------------------------------------------

/** One meeting's live view on one screen; `load` and `apply` plug into a MeetingFeed. */
export class DelegateLive {
  view = $state.raw<LiveView | null>(null);
  /** The box's time, ticking every quarter second (for countdowns). */
  now = $state(0);
  readonly clock = new BoxClock();
  readonly meetingId: string;
  /** The last event applied (or the head a view reflects). */
  #seq = -1;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(meetingId: string) {
    this.meetingId = meetingId;
  }

  /** Starts the clock that drives countdowns. */
  tick(): () => void {
    this.now = this.clock.now();
    this.#timer = setInterval(() => (this.now = this.clock.now()), 250);
    return () => clearInterval(this.#timer);
  }

  /** Reads the view (the feed's snapshot). */
  async load(): Promise<void> {
    const sent = Date.now();
    const answer = await liveApi.view(this.meetingId);
    this.accept(answer.data, sent, Date.now(), true);
  }

  /**
   * A view from the box (a snapshot, or a command's answer). A command's answer older than the
   * events already applied is dropped; events it already holds apply again without effect.
   */
  accept(v: LiveView, sentAt: number, receivedAt: number, snapshot = false): void {
    if (!snapshot && this.view && v.seq < this.#seq) return;
    this.clock.set(v.now, sentAt, receivedAt);
    this.now = this.clock.now();
    this.#seq = Math.max(this.#seq, v.seq);
    const before = this.view;
    this.view = v;
    this.#followChanged(before, v);
  }

  apply(ev: LiveEvent): Applied {
    const v = this.view;
    // The view could not be read (the Wi-Fi dropped then): a live event of this meeting reads it again.
    if (!v) return LIVE.has(ev.kind) && meetingOf(ev) === this.meetingId ? 'refetch' : 'ignored';
    const out = applyLive(v, ev, { username: null });
    if (out === 'ignored' || out === 'refetch') return out;
    this.#seq = Math.max(this.#seq, ev.seq);
    this.view = out;
    this.#followChanged(v, out);
    return 'applied';
  }

  /** A follow that starts (or becomes one this viewer may see) is followed; one that stops forgets "left". */
  #followChanged(before: LiveView | null, after: LiveView): void {
    const was = followTarget(before);
    const now = followTarget(after);
    if (!now && !after.follow) {
      if (followLeft(this.meetingId)) setFollowLeft(this.meetingId, false);
    } else if (now && !was && before !== null) {
      setFollowLeft(this.meetingId, false);
    }
  }
}

// ---- sending with retries ----------------------------------------------------------------------

/** Whether a failed call may be sent again as it is: the box was unreachable or busy. */
export function retryable(e: unknown): boolean {
  if (!(e instanceof ApiError)) return false;
  return e.status === 0 || e.status === 429 || e.status === 502 || e.status === 503 || e.status === 504;
}

/**
 * Runs `call` until it answers, or fails in a way a retry would not change. Between tries it
 * waits 0.5 s, 1 s, 2 s, then 3 s; `onRetry` is told each time. Stops when `alive()` is false.
 */
export async function withRetries<T>(call: () => Promise<T>, alive: () => boolean, onRetry?: (attempt: number) => void): Promise<T> {
  let attempt = 0;
  for (;;) {
    try {
      return await call();
    } catch (e) {
      if (!retryable(e) || !alive()) throw e;
      attempt += 1;
      onRetry?.(attempt);
      const hinted = e instanceof ApiError && e.retryAfter !== null ? e.retryAfter * 1000 : 0;
      await new Promise((r) => setTimeout(r, Math.max(hinted, Math.min(3000, 250 * 2 ** attempt))));
      if (!alive()) throw e;
    }
  }
}
