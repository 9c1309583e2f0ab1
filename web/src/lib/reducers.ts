// Screens apply the meeting's live events to what they show, instead of fetching it again
// (docs/architecture.md, "Screens apply events"). One reducer per family of screens: the
// delegate's tablet, the chair's console, the secretary's desk and preparation screen. Each
// gives the new state, says the event is not for it ('ignored'), or says it cannot apply the
// event exactly ('refetch': a kind it does not know that names this meeting, a record it does
// not have, a field only the box can compute). The same event applied twice gives the same state,
// so an event that the snapshot already holds does no harm.
import { VOTE_KINDS } from './votes';
import type {
  AgendaItem,
  Attendance,
  AttendanceSheet,
  AttendanceStatus,
  DocVersion,
  MeetingDocument,
  MeetingSeats,
  MeetingStatus,
  MyMeeting,
  PreparedMeeting,
  RoomEvent,
} from './types';

/** One event of a meeting's live feed: `{seq, kind, at, body}`. */
export type LiveEvent = RoomEvent<Record<string, unknown>>;

export type Outcome<S> = { state: S } | 'ignored' | 'refetch';

/** Who looks: staff see every document; a delegate's tablet only what is meant for its person. */
export interface Viewer {
  person: string | null;
  seesAll: boolean;
}

/** A time as the API gives it: RFC 3339 in UTC, whole seconds when there are no fractions. */
export function utcIso(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return null;
  return d.toISOString().replace('.000Z', 'Z');
}

/** Milliseconds since the epoch for sorting; unknown times go last. */
export function timeKey(iso: string | null | undefined): number {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(t) ? Number.MAX_SAFE_INTEGER : t;
}

/** Meetings in the order of their start times (the box's times may carry any offset). */
export function byStart<T extends { starts_at: string }>(list: readonly T[], newestFirst = false): T[] {
  const sign = newestFirst ? -1 : 1;
  return [...list].sort((a, b) => sign * (timeKey(a.starts_at) - timeKey(b.starts_at)));
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const ids = (v: unknown): string[] | null => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null);

/** The meeting an event names, if any. */
export function meetingOf(ev: LiveEvent): string | null {
  const b = ev.body ?? {};
  return str(b.meeting_id) ?? str((b.meeting as { id?: unknown } | undefined)?.id);
}

function visibleTo(restricted: string[] | null, viewer: Viewer): boolean {
  return viewer.seesAll || restricted === null || (viewer.person !== null && restricted.includes(viewer.person));
}

function withUrl(v: Record<string, unknown>): DocVersion | null {
  const sha = str(v.sha256);
  if (!sha || typeof v.n !== 'number') return null;
  return {
    n: v.n,
    sha256: sha,
    size: typeof v.size === 'number' ? v.size : 0,
    file_name: str(v.file_name) ?? '',
    content_type: str(v.content_type) ?? 'application/octet-stream',
    uploaded_at: utcIso(v.uploaded_at) ?? '',
    url: `/api/blobs/${sha}`,
  };
}

/** "Đã cập nhật": the current version came after publishing (as the box computes it). */
function updatedAfter(doc: MeetingDocument, publishedAt: string | null | undefined): boolean {
  const cur = doc.versions[doc.versions.length - 1];
  if (!publishedAt || !cur) return false;
  return timeKey(cur.uploaded_at) > timeKey(publishedAt);
}

function reorder(agenda: AgendaItem[], order: string[]): AgendaItem[] {
  const rest = [...agenda];
  const out: AgendaItem[] = [];
  for (const id of order) {
    const at = rest.findIndex((i) => i.id === id);
    if (at >= 0) out.push(...rest.splice(at, 1));
  }
  return [...out, ...rest];
}

const STATUS_AFTER: Record<string, MeetingStatus> = {
  'meeting.submitted': 'submitted',
  'meeting.approved': 'approved',
  'meeting.sent_back': 'draft',
  'meeting.published': 'published',
};

/**
 * The meeting (`GET /api/meetings/{id}`: details, agenda, documents, step) after `ev`.
 * `computed`: the meeting carries a field only the box computes (the preparation screen's
 * warning that a published meeting reached people late), so a new start time or publishing
 * asks for a fetch.
 */
export function reduceMeeting<M extends PreparedMeeting>(m: M, ev: LiveEvent, viewer: Viewer, computed = false): Outcome<M> {
  const b = ev.body ?? {};
  const docs = m.documents ?? [];
  const agenda = m.agenda ?? [];
  switch (ev.kind) {
    case 'meeting.details_set': {
      const chair = str(b.chair_id);
      // A new chair changes what this person may see (the chair sees every document).
      if (chair !== (m.chair_id ?? null) && viewer.person !== null && (chair === viewer.person || m.chair_id === viewer.person)) return 'refetch';
      if (computed && m.status === 'published' && utcIso(b.starts_at) !== utcIso(m.starts_at)) return 'refetch';
      const title = str(b.title) ?? m.title;
      const startsAt = utcIso(b.starts_at) ?? m.starts_at;
      const place = str(b.place) ?? m.place ?? null;
      // What delegates should notice: the box marks the same on its next answer.
      const was = m.changed_after_publish ?? { title: false, starts_at: false, place: false };
      const changed =
        m.status === 'published'
          ? {
              title: was.title || title !== m.title,
              starts_at: was.starts_at || startsAt !== utcIso(m.starts_at),
              place: was.place || place !== (m.place ?? null),
            }
          : was;
      return {
        state: { ...m, title, starts_at: startsAt, place, chair_id: chair, changed_after_publish: changed },
      };
    }
    case 'agenda.item_added':
    case 'agenda.item_updated': {
      const item = b.item as AgendaItem | undefined;
      if (!item || typeof item.id !== 'string') return 'refetch';
      const known = agenda.some((i) => i.id === item.id);
      if (!known && ev.kind === 'agenda.item_updated') return 'refetch';
      const marked = { ...item, updated_after_publish: m.status === 'published' || agenda.some((i) => i.id === item.id && i.updated_after_publish) };
      return { state: { ...m, agenda: known ? agenda.map((i) => (i.id === item.id ? marked : i)) : [...agenda, marked] } };
    }
    case 'agenda.item_removed':
      return { state: { ...m, agenda: agenda.filter((i) => i.id !== str(b.item_id)) } };
    case 'agenda.reordered': {
      const order = ids(b.order);
      return order ? { state: { ...m, agenda: reorder(agenda, order) } } : 'refetch';
    }
    case 'document.added':
    case 'document.version_added':
    case 'document.updated':
    case 'document.removed':
      // The box tells a viewer only that a document is now hidden from them:
      // `{meeting_id, document_id, hidden: true}`.
      if (b.hidden === true) return { state: { ...m, documents: docs.filter((x) => x.id !== str(b.document_id)) } };
      return reduceDocument(m, ev, viewer);
    default:
      return reduceRest(m, ev, computed);
  }
}

function reduceDocument<M extends PreparedMeeting>(m: M, ev: LiveEvent, viewer: Viewer): Outcome<M> {
  const b = ev.body ?? {};
  const docs = m.documents ?? [];
  switch (ev.kind) {
    case 'document.added': {
      const d = b.document as Record<string, unknown> | undefined;
      const id = str(d?.id);
      if (!d || !id || !Array.isArray(d.versions)) return 'refetch';
      const restricted = d.restricted_to === null || d.restricted_to === undefined ? null : ids(d.restricted_to);
      if (!visibleTo(restricted, viewer)) return { state: { ...m, documents: docs.filter((x) => x.id !== id) } };
      const versions = (d.versions as Record<string, unknown>[]).map(withUrl);
      if (versions.some((v) => v === null)) return 'refetch';
      const doc: MeetingDocument = {
        id,
        item_id: str(d.item_id) ?? '',
        title: str(d.title) ?? '',
        number: str(d.number),
        kind: d.kind === 'pdf' ? 'pdf' : 'attachment',
        restricted_to: restricted,
        versions: versions as DocVersion[],
        updated_after_publish: false,
      };
      doc.updated_after_publish = updatedAfter(doc, m.published_at);
      const known = docs.some((x) => x.id === id);
      return { state: { ...m, documents: known ? docs.map((x) => (x.id === id ? doc : x)) : [...docs, doc] } };
    }
    case 'document.version_added': {
      const id = str(b.document_id);
      const doc = docs.find((x) => x.id === id);
      const restricted = b.restricted_to === null || b.restricted_to === undefined ? null : ids(b.restricted_to);
      if (!doc) return visibleTo(restricted, viewer) ? 'refetch' : 'ignored';
      const v = withUrl((b.version ?? {}) as Record<string, unknown>);
      if (!v) return 'refetch';
      if (doc.versions.some((x) => x.n === v.n)) return { state: m };
      const next = { ...doc, versions: [...doc.versions, v] };
      next.updated_after_publish = updatedAfter(next, m.published_at);
      return { state: { ...m, documents: docs.map((x) => (x.id === id ? next : x)) } };
    }
    case 'document.updated': {
      const id = str(b.document_id);
      const doc = docs.find((x) => x.id === id);
      const restricted = b.restricted_to === null || b.restricted_to === undefined ? null : ids(b.restricted_to);
      const visible = visibleTo(restricted, viewer);
      // Newly shown to this person: its versions are not in the event.
      if (!doc) return visible ? 'refetch' : 'ignored';
      if (!visible) return { state: { ...m, documents: docs.filter((x) => x.id !== id) } };
      const next = { ...doc, title: str(b.title) ?? doc.title, number: str(b.number), restricted_to: restricted };
      return { state: { ...m, documents: docs.map((x) => (x.id === id ? next : x)) } };
    }
    case 'document.removed':
      return { state: { ...m, documents: docs.filter((x) => x.id !== str(b.document_id)) } };
    default:
      return 'ignored';
  }
}

function reduceRest<M extends PreparedMeeting>(m: M, ev: LiveEvent, computed: boolean): Outcome<M> {
  const b = ev.body ?? {};
  const docs = m.documents ?? [];
  switch (ev.kind) {
    case 'meeting.submitted':
    case 'meeting.approved':
    case 'meeting.sent_back':
    case 'meeting.published': {
      const status = STATUS_AFTER[ev.kind];
      const next: M = { ...m, status };
      if (ev.kind === 'meeting.submitted') next.review_comment = null;
      if (ev.kind === 'meeting.sent_back') next.review_comment = str(b.comment);
      if (ev.kind === 'meeting.published') {
        next.published_at = utcIso(ev.at);
        next.documents = docs.map((d) => ({ ...d, updated_after_publish: updatedAfter(d, next.published_at) }));
        // The box warns about publishing late; once published there is nothing to warn about.
        if (computed) return 'refetch';
      }
      return { state: next };
    }
    default:
      return 'ignored';
  }
}

const IN_ROOM: ReadonlySet<AttendanceStatus> = new Set(['present', 'late']);

/** The attendance sheet after `ev`, with the quorum counted again as the box counts it. */
export function reduceSheet(sheet: AttendanceSheet, ev: LiveEvent, viewer: Viewer): Outcome<AttendanceSheet> {
  const b = ev.body ?? {};
  if (ev.kind === 'seating.assigned') {
    const assignments = (b.assignments ?? null) as Record<string, string> | null;
    if (!assignments) return 'refetch';
    const seatOf = new Map(Object.entries(assignments).map(([seat, person]) => [person, seat]));
    return { state: { ...sheet, rows: sheet.rows.map((r) => ({ ...r, seat: seatOf.get(r.person.id) ?? null })) } };
  }
  if (ev.kind !== 'attendance.marked') return 'ignored';
  const person = str(b.person_id);
  const status = str(b.status) as AttendanceStatus | null;
  const row = sheet.rows.find((r) => r.person.id === person);
  // Someone this sheet does not list (invited since it was read): only the box knows their row.
  if (!row || !status) return 'refetch';
  const rows = sheet.rows.map((r) => (r.person.id === person ? markRow(r, b, viewer) : r));
  const members = rows.filter((r) => r.kind === 'member');
  const present = members.filter((r) => IN_ROOM.has(r.status)).length;
  const { required } = sheet.quorum;
  return { state: { rows, quorum: { members: members.length, present, required, reached: members.length > 0 && present >= required } } };
}

function markRow(r: Attendance, b: Record<string, unknown>, viewer: Viewer): Attendance {
  // Someone else's reason stays with the secretary, whatever the feed carries.
  const mine = viewer.seesAll || r.person.id === viewer.person;
  return { ...r, status: b.status as AttendanceStatus, at: utcIso(b.at), reason: mine ? str(b.reason) : null };
}

/** Who sits where, after `ev`. */
export function reduceSeats(seats: MeetingSeats, ev: LiveEvent): Outcome<MeetingSeats> {
  if (ev.kind !== 'seating.assigned') return 'ignored';
  const assignments = (ev.body?.assignments ?? null) as Record<string, string> | null;
  return assignments ? { state: { ...seats, assignments: { ...assignments } } } : 'refetch';
}

/** What one screen shows; `null` parts are not loaded (yet) and not touched. */
export interface ScreenState<M> {
  meeting: M | null;
  sheet: AttendanceSheet | null;
  seats: MeetingSeats | null;
}

/** The kinds each family of screens applies; anything else naming its meeting is a refetch. */
const MEETING_KINDS = [
  'meeting.created',
  'meeting.details_set',
  'agenda.item_added',
  'agenda.item_updated',
  'agenda.item_removed',
  'agenda.reordered',
  'document.added',
  'document.version_added',
  'document.updated',
  'document.removed',
  'meeting.submitted',
  'meeting.approved',
  'meeting.sent_back',
  'meeting.published',
] as const;
const ROOM_KINDS = ['attendance.marked', 'seating.assigned'] as const;
/** The live meeting's kinds: the screens that show it apply them (live.ts); others ignore them. */
export const LIVE_KINDS = [
  'meeting.started',
  'meeting.paused',
  'meeting.resumed',
  'meeting.ended',
  'agenda.item_opened',
  'speech.requested',
  'speech.withdrawn',
  'speech.reordered',
  'speech.time_set',
  'speech.limits_set',
  'speech.started',
  'speech.ended',
  'follow.set',
  'follow.stopped',
  'console.delegated',
] as const;

/** A delegate's marks and item notes: the reader applies them; other screens ignore them. */
export const ANNOTATION_KINDS = ['annotation.saved', 'item_note.saved'] as const;

/** Every kind the screens understand, whether or not a given screen shows what it changes. */
export const KNOWN_KINDS: ReadonlySet<string> = new Set([...MEETING_KINDS, ...ROOM_KINDS, ...LIVE_KINDS, ...VOTE_KINDS, ...ANNOTATION_KINDS]);

export type Reducer<M> = (s: ScreenState<M>, ev: LiveEvent) => Outcome<ScreenState<M>>;

/**
 * A family's reducer: the parts a screen holds (a `null` part is left alone), then `own` for
 * what the family adds to the meeting. `computed`: see reduceMeeting.
 */
function family<M extends PreparedMeeting>(viewer: () => Viewer, computed: boolean, own?: (m: M, s: ScreenState<M>, ev: LiveEvent, v: Viewer) => M): Reducer<M> {
  return (s, ev) => {
    if (!KNOWN_KINDS.has(ev.kind)) return 'ignored';
    const v = viewer();
    const next: ScreenState<M> = { ...s };
    let changed = false;
    if (s.meeting) {
      const out = reduceMeeting(s.meeting, ev, v, computed);
      if (out === 'refetch') return 'refetch';
      if (out !== 'ignored') ((next.meeting = out.state), (changed = true));
    }
    if (s.sheet) {
      const out = reduceSheet(s.sheet, ev, v);
      if (out === 'refetch') return 'refetch';
      if (out !== 'ignored') ((next.sheet = out.state), (changed = true));
    }
    if (s.seats) {
      const out = reduceSeats(s.seats, ev);
      if (out === 'refetch') return 'refetch';
      if (out !== 'ignored') ((next.seats = out.state), (changed = true));
    }
    if (own && next.meeting) {
      const m = own(next.meeting, next, ev, v);
      if (m !== next.meeting) ((next.meeting = m), (changed = true));
    }
    return changed ? { state: next } : 'ignored';
  };
}

/** The delegate's tablet: the meeting (with my attendance and my seat), the sheet, the map. */
export function delegateReducer(viewer: () => Viewer): Reducer<MyMeeting> {
  return family<MyMeeting>(viewer, false, (m, s, ev, v) => {
    if (v.person === null) return m;
    if (ev.kind === 'attendance.marked' && str(ev.body?.person_id) === v.person) {
      const row = s.sheet?.rows.find((r) => r.person.id === v.person);
      if (row) return { ...m, my_attendance: row };
      return m.my_attendance ? { ...m, my_attendance: markRow(m.my_attendance, ev.body, v) } : m;
    }
    if (ev.kind === 'seating.assigned') {
      const assignments = (ev.body?.assignments ?? {}) as Record<string, string>;
      const seat = Object.entries(assignments).find(([, who]) => who === v.person)?.[0] ?? null;
      return { ...m, my_seat: seat, my_attendance: m.my_attendance ? { ...m.my_attendance, seat } : null };
    }
    return m;
  });
}

/** The chair's console: the quorum and counts, the live map, the meeting's title and time. */
export function chairReducer(viewer: () => Viewer): Reducer<PreparedMeeting> {
  return family<PreparedMeeting>(viewer, false);
}

/** The secretary's desk (attendance) and preparation screen; the latter shows the publish
 * warning, which only the box computes. */
export function deskReducer(viewer: () => Viewer, preparing = false): Reducer<PreparedMeeting> {
  return family<PreparedMeeting>(viewer, preparing);
}
