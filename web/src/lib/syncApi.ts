// The central office's API for IT staff (docs/api.md "Hub"): a room box's sync status and
// "sync now"; on the hub, enrolment tokens, the enrolled boxes, revoking one. Also how long
// ago something happened, in words ("5 phút trước").
import { request as call } from './api';
import { LOCALE, type Lang, type MessageKey } from './i18n';
import type { AttendanceRecord, Document, Item, MeetingHeader, Person, Phase, Question, SignedResult } from './generated/contract';

export type SyncState = 'idle' | 'syncing' | 'backoff' | 'fork' | 'refused' | 'incompatible';

/** `GET /api/sync/status` on a room box. */
export interface SyncStatus {
  enrolled: boolean;
  hub: string | null;
  room: string | null;
  state: SyncState;
  head: number;
  hub_cursor: number | null;
  backlog_events: number | null;
  blobs_pending: number;
  last_success: string | null;
  last_attempt: string | null;
  last_error: string | null;
  next_attempt: string | null;
  bytes_sent: number;
  sessions: number;
  /** How far the box holds the hub's own log, and the hub's head as it last said. */
  hub_log_held: number;
  hub_log_head: number | null;
  /** Files being fetched from the hub (documents of handed-over meetings, updates). */
  downloads_pending: number;
  bytes_received: number;
  /** Why the box stopped taking the hub's log (its copy differs), if it did. */
  hub_log_error: string | null;
  /** Which root tablets should trust: the box's own, or the province's after enrolment. */
  trust: TrustInfo;
}

export interface TrustInfo {
  mode: 'own' | 'province';
  root_subject: string;
  root_sha256: string;
  own_root_sha256: string;
  intermediate_not_after: string;
  /** Names and addresses the box's CA from the hub does not cover. */
  uncovered: string[];
}

/** An enrolment token as the hub lists it (the token itself is never shown again). */
export interface Enrolment {
  token_id: string;
  room: string;
  issued_at: string;
  expires_at: string;
  used_by: string | null;
}

/** A room box as the hub sees it (`GET /api/hub/boxes`). */
export interface HubBox {
  node_id: string;
  room: string;
  token_id: string;
  enrolled_at: string;
  cert_serial: string;
  cert_not_after: string;
  revoked: { at: string; reason: string } | null;
  cursor: { seq: number; hash: string };
  contact: { last_contact: string; app_version: string; reported_head: number | null; hub_log_held: number | null } | null;
  backlog_up: number | null;
  /** Events of the hub's own log the box does not hold yet, as it last said. */
  backlog_down: number | null;
}

/** A release the hub offered to its boxes (`GET /api/hub/updates`). */
export interface OfferedRelease {
  seq: number;
  at: string;
  version: string;
  target: string;
  sha256: string;
  size: number;
  /** The boxes it is offered to; null: every box. */
  nodes: string[] | null;
}

export interface UpdateOffers {
  release_key: boolean;
  offers: OfferedRelease[];
}

/** An answer with how far the node's clock is ahead of ours (relative times use the node's clock). */
export interface Timed<T> {
  data: T;
  skew: number;
}

/** A box's meeting in the hub's archive list. */
export interface ArchivedMeetingSummary extends MeetingHeader {
  items: number;
  documents: number;
  results: number;
}

/** One meeting of a box, whole, from the hub's archive. */
export interface ArchivedMeeting {
  node_id: string;
  info: MeetingHeader;
  agenda: Item[];
  documents: Document[];
  people: Record<string, Person>;
  attendance: Record<string, AttendanceRecord>;
  questions: { question: Question; result: SignedResult | null }[];
}

/** A meeting prepared at the hub, as its console lists it (`GET /api/hub/meetings`). */
export interface OfficeMeeting extends MeetingHeader {
  items: number;
  documents: number;
  live_phase: Phase;
  /** The room box's log, as the hub holds it, shows it adopted the meeting. */
  received: boolean;
}

const seg = encodeURIComponent;

async function timed<T>(path: string, signal?: AbortSignal): Promise<Timed<T>> {
  const a = await call<T>('GET', path, { signal });
  return { data: a.data, skew: a.clockSkewMs };
}

export const syncApi = {
  status: (signal?: AbortSignal) => timed<SyncStatus>('/api/sync/status', signal),
  syncNow: async () => (await call<null>('POST', '/api/sync/now')).data,
  enrolments: (signal?: AbortSignal) => timed<Enrolment[]>('/api/hub/enrolments', signal),
  issue: async (room: string) => (await call<{ token: string; enrolment: Enrolment }>('POST', '/api/hub/enrolments', { json: { room } })).data,
  boxes: (signal?: AbortSignal) => timed<HubBox[]>('/api/hub/boxes', signal),
  updates: async (signal?: AbortSignal) => (await call<UpdateOffers>('GET', '/api/hub/updates', { signal })).data,
  archiveMeetings: async (nodeId: string, signal?: AbortSignal) =>
    (await call<ArchivedMeetingSummary[]>('GET', `/api/hub/boxes/${seg(nodeId)}/meetings`, { signal })).data,
  archiveMeeting: async (nodeId: string, meetingId: string, signal?: AbortSignal) =>
    (await call<ArchivedMeeting>('GET', `/api/hub/boxes/${seg(nodeId)}/meetings/${seg(meetingId)}`, { signal })).data,
  /** A document file the hub holds for a box (office staff), opened in the browser. */
  blobUrl: (sha256: string) => `/api/blobs/${seg(sha256)}`,
  officeMeetings: async (signal?: AbortSignal) => (await call<OfficeMeeting[]>('GET', '/api/hub/meetings', { signal })).data,
  handOver: async (meetingId: string, node: string) =>
    (await call<MeetingHeader>('POST', `/api/hub/meetings/${seg(meetingId)}/handover`, { json: { node } })).data,
  revoke: async (nodeId: string, reason: string) => (await call<HubBox>('POST', `/api/hub/boxes/${seg(nodeId)}/revoke`, { json: { reason } })).data,
};

/** One day, in ms: a box silent longer than this is shown as an alarm. */
export const STALE_AFTER_MS = 24 * 60 * 60 * 1000;

/** A box not revoked that has not been heard from (since its enrolment) for over a day; `now` on the hub's clock. */
export function isStale(b: HubBox, now: number): boolean {
  if (b.revoked) return false;
  const last = Date.parse(b.contact?.last_contact ?? b.enrolled_at);
  return Number.isNaN(last) || now - last > STALE_AFTER_MS;
}

/** The states in which sync stopped and waits for IT staff. */
export const STOPPED_STATES: readonly SyncState[] = ['fork', 'refused', 'incompatible'];

/**
 * "5 phút trước" / "sau 30 giây" (or "5 minutes ago"): `iso` against `now` (ms, the node's
 * clock). Under 10 seconds either way: "vừa xong" / "just now" is the caller's choice (null).
 */
export function relativeTime(iso: string | null | undefined, now: number, l: Lang): string | null {
  if (!iso) return null;
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return null;
  const diff = (at - now) / 1000;
  const abs = Math.abs(diff);
  if (abs < 10) return null;
  const fmt = new Intl.RelativeTimeFormat(LOCALE[l], { numeric: 'always' });
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ['day', 86_400],
    ['hour', 3_600],
    ['minute', 60],
  ];
  for (const [unit, secs] of units) {
    if (abs >= secs) return fmt.format(Math.trunc(diff / secs), unit);
  }
  return fmt.format(Math.trunc(diff), 'second');
}

/** 1234567 → "1,2 MB". */
export function bytesText(n: number, l: Lang): string {
  const units = ['B', 'kB', 'MB', 'GB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i += 1;
  }
  return `${v.toLocaleString(LOCALE[l], { maximumFractionDigits: i === 0 ? 0 : 1 })} ${units[i]}`;
}

/** The first 8 characters of a node id, enough to tell boxes apart on screen. */
export function shortNode(id: string): string {
  return id.length > 10 ? `${id.slice(0, 8)}…` : id;
}

/** The last sync error in plain words, when it is a common one; null: only the detail is shown. */
export function plainError(raw: string | null): MessageKey | null {
  if (!raw) return null;
  const e = raw.toLowerCase();
  if (e.includes('sync.revoked')) return 'sync.err.revoked';
  if (e.includes('connection refused') || e.includes('network is unreachable') || e.includes('no route to host')) return 'sync.err.refused_conn';
  if (e.includes('timed out') || e.includes('timeout')) return 'sync.err.timeout';
  if (e.includes('dns') || e.includes('failed to lookup') || e.includes('name or service not known')) return 'sync.err.dns';
  if (e.includes('certificate') || e.includes('invalidcertificate') || e.includes('tls')) return 'sync.err.tls';
  return null;
}
