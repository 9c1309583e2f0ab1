// The live meeting as every screen keeps it: the box's `LiveView` snapshot, with the feed's
// live events applied to it the same way the box applies them (appliance/src/domain/live.rs).
// Times come from the events (`at`, the box's clock) and countdowns from the box's clock too
// (BoxClock), so a tablet whose clock is hours off still shows the right time.
import type { Id, LiveView, MeetingRole, Request, Speaking, Speech, SpeechKind, SpeechLimits } from './generated/contract';
import type { LiveEvent } from './reducers';

export type { LiveView, Request, Speaking, Speech, SpeechKind, SpeechLimits };

/** Who looks, for the one field the view computes per caller. */
export interface LiveViewer {
  /** The staff account's user name, if signed in as staff. */
  username: string | null;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function msBetween(from: string, to: string): number {
  const d = Date.parse(to) - Date.parse(from);
  return Number.isFinite(d) && d > 0 ? d : 0;
}

/** Whether a request with this id was made here (waiting, speaking or heard). */
function knows(v: LiveView, id: string): boolean {
  return v.queue.some((r) => r.id === id) || v.speaking?.id === id || v.history.some((s) => s.id === id);
}

function endSpeech(v: LiveView, at: string): LiveView {
  const s = v.speaking;
  if (!s) return v;
  const heard: Speech = {
    id: s.id,
    person_id: s.person_id,
    item_id: s.item_id,
    kind: s.kind,
    replies_to: s.replies_to,
    started_at: s.started_at,
    ended_at: Date.parse(at) >= Date.parse(s.started_at) ? at : s.started_at,
    seconds: s.seconds,
  };
  return { ...v, speaking: null, history: v.history.some((h) => h.id === s.id) ? v.history : [...v.history, heard] };
}

function stopItemClock(v: LiveView, at: string): LiveView {
  const i = v.item;
  if (!i || i.since === null) return v;
  return { ...v, item: { ...i, since: null, spent_ms: i.spent_ms + msBetween(i.since, at) } };
}

function closeItem(v: LiveView, at: string): LiveView {
  const w = stopItemClock(v, at);
  if (!w.item) return w;
  return { ...w, item: null, item_spent_ms: { ...w.item_spent_ms, [w.item.item_id]: w.item.spent_ms } };
}

function canRun(role: MeetingRole, operator: string | null, viewer: LiveViewer): boolean {
  return role === 'chair' || (role === 'secretary' && operator !== null && operator === viewer.username);
}

/**
 * Applies one event of the meeting's feed. 'ignored': not a live event (or already held);
 * 'refetch': an event this page cannot apply exactly.
 */
export function applyLive(v: LiveView, ev: LiveEvent, viewer: LiveViewer): LiveView | 'ignored' | 'refetch' {
  const b = (ev.body ?? {}) as Record<string, unknown>;
  if (str(b.meeting_id) !== v.meeting_id) return 'ignored';
  const at = ev.at;
  switch (ev.kind) {
    case 'meeting.started':
      return { ...v, phase: 'running', started_at: at, item: v.item ? { ...v.item, since: at } : null };
    case 'meeting.paused': {
      const w = stopItemClock(endSpeech(v, at), at);
      return { ...w, phase: 'paused', paused: { reason: str(b.reason) ?? '', since: at } };
    }
    case 'meeting.resumed':
      return { ...v, phase: 'running', paused: null, item: v.item ? { ...v.item, since: at } : null };
    case 'meeting.ended': {
      const w = closeItem(endSpeech(v, at), at);
      return { ...w, phase: 'ended', ended_at: at, paused: null, follow: null, queue: [] };
    }
    case 'agenda.item_opened': {
      const item = str(b.item_id);
      if (!item) return 'refetch';
      const w = closeItem(endSpeech(v, at), at);
      const spent = w.item_spent_ms[item] ?? 0;
      const rest = { ...w.item_spent_ms };
      delete rest[item];
      return { ...w, item_spent_ms: rest, item: { item_id: item, since: w.phase === 'running' ? at : null, spent_ms: spent } };
    }
    case 'speech.requested': {
      const r = (b.request ?? {}) as Record<string, unknown>;
      const id = str(r.id);
      const person = str(r.person_id);
      const item = str(r.item_id);
      const kind = str(r.kind) as SpeechKind | null;
      if (!id || !person || !item || !kind) return 'refetch';
      if (knows(v, id)) return 'ignored';
      const req: Request = { id, person_id: person, item_id: item, kind, replies_to: str(r.replies_to), requested_at: at, seconds_set: null };
      const before = str(r.before);
      const pos = before === null ? -1 : v.queue.findIndex((q) => q.id === before);
      const queue = [...v.queue];
      queue.splice(pos < 0 ? queue.length : pos, 0, req);
      return { ...v, queue };
    }
    case 'speech.withdrawn': {
      const id = str(b.request_id);
      return { ...v, queue: v.queue.filter((r) => r.id !== id) };
    }
    case 'speech.reordered': {
      const order = Array.isArray(b.order) ? (b.order as unknown[]).filter((x): x is string => typeof x === 'string') : [];
      const slots = v.queue.map((r, i) => (order.includes(r.id) ? i : -1)).filter((i) => i >= 0);
      const moved = order.map((id) => v.queue.find((r) => r.id === id)).filter((r): r is Request => !!r);
      if (moved.length !== slots.length) return 'ignored';
      const queue = [...v.queue];
      slots.forEach((slot, k) => (queue[slot] = moved[k]!));
      return { ...v, queue };
    }
    case 'speech.time_set': {
      const id = str(b.request_id);
      const seconds = num(b.seconds);
      if (!id || seconds === null) return 'refetch';
      if (v.speaking?.id === id) return { ...v, speaking: { ...v.speaking, seconds } };
      return { ...v, queue: v.queue.map((r) => (r.id === id ? { ...r, seconds_set: seconds } : r)) };
    }
    case 'speech.limits_set': {
      const l = b.limits as SpeechLimits | undefined;
      return l ? { ...v, limits: { ...l } } : 'refetch';
    }
    case 'speech.started': {
      const id = str(b.request_id);
      const seconds = num(b.seconds);
      const req = v.queue.find((r) => r.id === id);
      if (!id || seconds === null) return 'refetch';
      if (!req) return v.speaking?.id === id ? 'ignored' : 'refetch';
      const w = endSpeech(v, at);
      const speaking: Speaking = { ...req, started_at: at, seconds };
      return { ...w, queue: w.queue.filter((r) => r.id !== id), speaking };
    }
    case 'speech.ended': {
      const id = str(b.request_id);
      return v.speaking?.id === id ? endSpeech(v, at) : 'ignored';
    }
    case 'follow.set': {
      if (b.hidden === true) return { ...v, follow: { document_id: null, page: null, since: at, hidden: true } };
      const doc = str(b.document_id);
      const page = num(b.page);
      if (!doc || page === null) return 'refetch';
      return { ...v, follow: { document_id: doc, page, since: at, hidden: false } };
    }
    case 'follow.stopped':
      return { ...v, follow: null };
    case 'console.delegated': {
      const operator = str(b.username);
      return { ...v, operator, can_run: canRun(v.role, operator, viewer) };
    }
    default:
      return 'ignored';
  }
}

/** The box's clock, as far as this page can tell: set from a view's `now` when it arrives. */
export class BoxClock {
  /** Box time minus local time, in ms. */
  skewMs = 0;

  /** `boxNow`: the box's time in the answer; `sentAt`/`receivedAt`: local times around the call. */
  set(boxNow: string, sentAt: number, receivedAt: number): void {
    const box = Date.parse(boxNow);
    if (Number.isFinite(box)) this.skewMs = box - (sentAt + receivedAt) / 2;
  }

  /** The box's time now, in ms since the epoch. */
  now(): number {
    return Date.now() + this.skewMs;
  }
}

/** Seconds left of the current speech (negative once over time), by the box's clock. */
export function remainingSeconds(s: Speaking, boxNowMs: number): number {
  const started = Date.parse(s.started_at);
  if (!Number.isFinite(started)) return s.seconds;
  // The box's clock is estimated to within the round trip: a speech that has just begun never
  // shows more time than it was given.
  return s.seconds - Math.max(0, Math.floor((boxNowMs - started) / 1000));
}

/** Milliseconds spent on the current item, by the box's clock. */
export function itemElapsedMs(v: LiveView, boxNowMs: number): number | null {
  const i = v.item;
  if (!i) return null;
  const since = i.since === null ? NaN : Date.parse(i.since);
  return i.spent_ms + (Number.isFinite(since) ? Math.max(0, boxNowMs - since) : 0);
}

/** "4:05", "-0:12" (over time), "1:02:03". */
export function clockText(totalSeconds: number): string {
  const neg = totalSeconds < 0;
  let s = Math.abs(Math.trunc(totalSeconds));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${neg ? '−' : ''}${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

/** The waiting requests of the current item, in the order they will be heard. */
export function itemQueue(v: LiveView): Request[] {
  const item = v.item?.item_id;
  return item ? v.queue.filter((r) => r.item_id === item) : [];
}

/** A fresh id for a request to speak: the retry of the same tap sends the same id. */
export function newRequestId(): Id {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
