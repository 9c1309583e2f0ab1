// The staff side of the JSON API (docs/api.md): people, import, bodies, meetings, attendance,
// pairing codes, devices and seating. Failures are ApiError with the server's code, like api.ts.
import { ApiError } from './api';
import type { ApiErrorBody } from './i18n';

/** One failing cell of an import row, or the field of an `input.*` error. */
export interface FieldError {
  field: string;
  code: string;
  message?: string;
  message_en?: string;
}

/** An error body as the staff calls may receive it: the common one plus `field` and `rows`. */
export interface StaffErrorBody extends ApiErrorBody {
  field?: string;
  rows?: unknown;
  /** From the `Retry-After` header of a 429, in seconds (not part of the JSON). */
  retry_after?: number;
}

export interface Person {
  id: string;
  name: string;
  given_name: string;
  position: string | null;
  unit: string | null;
  phone: string | null;
}

/** A row of `GET /api/people`. */
export interface PersonRow extends Person {
  devices: number;
  has_pin: boolean;
}

export type Role = 'it_admin' | 'secretary' | 'chair' | 'delegate' | 'guest' | 'projector';

export interface Account {
  username: string;
  display_name: string;
  roles: Role[];
  person_id?: string | null;
}

/** `GET /api/session`, `POST /api/session`. */
export interface SessionInfo {
  signed_in: boolean;
  account?: Account;
}

/** `GET /api/me`. */
export type Me =
  | { kind: 'anonymous' }
  | { kind: 'staff'; account: Account; person: Person | null }
  | { kind: 'device'; device: { id: string; label: string; paired_at: string }; person: Person };

export type PersonKind = 'member' | 'guest';

export interface ImportRow {
  line: number;
  ok: boolean;
  person?: { name: string; position: string | null; unit: string | null; phone: string | null; kind: PersonKind };
  errors: FieldError[];
}

export interface ImportPreview {
  preview_id: string;
  format: 'csv' | 'xlsx';
  header_row: number;
  rows: ImportRow[];
  valid: number;
  invalid: number;
}

export interface ImportResult {
  imported: number;
  skipped: number;
}

export type BodyKind = 'ubnd' | 'hdnd' | 'party' | 'other';
export const BODY_KINDS: readonly BodyKind[] = ['ubnd', 'hdnd', 'party', 'other'];

export interface Threshold {
  numerator: number;
  denominator: number;
  comparison: 'at_least' | 'more_than';
}

export interface Body {
  id: string;
  name: string;
  kind: BodyKind;
  quorum: Threshold;
  pass: Threshold;
  members: string[];
}

export type MeetingRole = 'secretary' | 'chair' | 'delegate' | 'guest';

export interface Meeting {
  id: string;
  body_id: string;
  title: string;
  starts_at: string;
  chair_id: string | null;
  members: string[];
  guests: string[];
  my_role?: MeetingRole;
}

export type AttendanceStatus = 'invited' | 'excused' | 'present' | 'late' | 'left_early' | 'absent';
/** What the secretary can set with one tap, in the order the desk shows them. */
export const SETTABLE_STATUSES: readonly AttendanceStatus[] = ['present', 'late', 'left_early', 'excused', 'absent'];

export interface Attendance {
  person: Person;
  kind: PersonKind;
  status: AttendanceStatus;
  at: string | null;
  reason: string | null;
  seat: string | null;
}

export interface Quorum {
  members: number;
  present: number;
  required: number;
  reached: boolean;
}

export interface AttendanceSheet {
  quorum: Quorum;
  rows: Attendance[];
}

export interface PairingCode {
  code: string;
  expires_at: string;
  /** The link by the address this browser uses. */
  url: string;
  /** The same link by the box's IP address, for tablets that cannot resolve `.local`. */
  ip_url: string | null;
}

export interface Device {
  id: string;
  label: string;
  paired_at: string;
  revoked_at: string | null;
}

export type LayoutShape = 'rows' | 'u' | 'free';

export interface Seat {
  id: string;
  label: string;
  x: number;
  y: number;
}

export interface Layout {
  shape: LayoutShape;
  seats: Seat[];
}

/** Seat id → person id. */
export type Assignments = Record<string, string>;

export interface MeetingSeats {
  layout: Layout;
  assignments: Assignments;
}

/** A successful answer and, from its `Date` header, how far the box's clock is ahead of ours. */
export interface Answer<T> {
  data: T;
  /** Box time minus this device's time, in ms (0 when unknown). The box's clock may be off. */
  clockSkewMs: number;
}

function isErrorBody(value: unknown): value is StaffErrorBody {
  return typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'string';
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

async function call<T>(
  method: Method,
  path: string,
  init: { json?: unknown; raw?: Blob; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { Accept: 'application/json', ...init.headers };
  let body: BodyInit | undefined;
  if (init.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(init.json);
  } else if (init.raw) {
    headers['Content-Type'] = init.raw.type || 'application/octet-stream';
    body = init.raw;
  }
  const sentAt = Date.now();
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body, credentials: 'same-origin', cache: 'no-store', signal: init.signal });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, { code: 'network' });
  }
  const text = await res.text().catch(() => '');
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!res.ok) {
    const err: StaffErrorBody = isErrorBody(parsed) ? parsed : { code: 'unknown' };
    const retry = Number(res.headers.get('Retry-After'));
    const retryAfter = Number.isFinite(retry) && retry > 0 ? retry : null;
    if (retryAfter !== null) err.retry_after = retryAfter;
    throw new ApiError(res.status, err, retryAfter);
  }
  let clockSkewMs = 0;
  const date = Date.parse(res.headers.get('Date') ?? '');
  if (!Number.isNaN(date)) {
    // The header has whole seconds: compare with the middle of the round trip, ignore < 2 s.
    const skew = date + 500 - (sentAt + Date.now()) / 2;
    if (Math.abs(skew) > 2_000) clockSkewMs = skew;
  }
  return { data: parsed as T, clockSkewMs };
}

const get = async <T>(path: string, signal?: AbortSignal): Promise<T> => (await call<T>('GET', path, { signal })).data;
const send = async <T>(method: Method, path: string, json?: unknown): Promise<T> => (await call<T>(method, path, { json })).data;
const seg = encodeURIComponent;

/** The staff API, one function per call of docs/api.md. */
export const staffApi = {
  session: (signal?: AbortSignal) => get<SessionInfo>('/api/session', signal),
  signIn: (username: string, password: string) => send<SessionInfo>('POST', '/api/session', { username, password }),
  signOut: () => send<null>('DELETE', '/api/session'),
  me: (signal?: AbortSignal) => get<Me>('/api/me', signal),

  people: async (signal?: AbortSignal) => (await get<{ people: PersonRow[] }>('/api/people', signal)).people,
  addPerson: (p: { name: string; position?: string; unit?: string; phone?: string }) => send<Person>('POST', '/api/people', p),
  importPreview: async (file: File) =>
    (
      await call<ImportPreview>('POST', '/api/people/import/preview', {
        raw: file,
        headers: { 'X-File-Name': encodeURIComponent(file.name) },
      })
    ).data,
  importConfirm: (preview_id: string, skip_invalid: boolean, body_id?: string) =>
    send<ImportResult>('POST', '/api/people/import', body_id ? { preview_id, skip_invalid, body_id } : { preview_id, skip_invalid }),
  pairingCode: (personId: string) => call<PairingCode>('POST', `/api/people/${seg(personId)}/pairing-code`),
  devices: async (personId: string, signal?: AbortSignal) =>
    (await get<{ devices: Device[] }>(`/api/people/${seg(personId)}/devices`, signal)).devices,
  revokeDevice: (deviceId: string) => send<null>('DELETE', `/api/devices/${seg(deviceId)}`),
  resetPin: (personId: string) => send<null>('DELETE', `/api/people/${seg(personId)}/pin`),

  bodies: async (signal?: AbortSignal) => (await get<{ bodies: Body[] }>('/api/bodies', signal)).bodies,
  createBody: (name: string, kind: BodyKind) => send<Body>('POST', '/api/bodies', { name, kind }),
  setMembers: (bodyId: string, members: string[]) => send<Body>('PUT', `/api/bodies/${seg(bodyId)}/members`, { members }),

  meetings: async (signal?: AbortSignal) => (await get<{ meetings: Meeting[] }>('/api/meetings', signal)).meetings,
  meeting: (id: string, signal?: AbortSignal) => get<Meeting>(`/api/meetings/${seg(id)}`, signal),
  createMeeting: (m: { body_id: string; title: string; starts_at: string; chair_id?: string; guests?: string[] }) =>
    send<Meeting>('POST', '/api/meetings', m),

  attendance: (meetingId: string, signal?: AbortSignal) => get<AttendanceSheet>(`/api/meetings/${seg(meetingId)}/attendance`, signal),
  setAttendance: (meetingId: string, personId: string, status: AttendanceStatus, reason?: string) =>
    send<Attendance>('PUT', `/api/meetings/${seg(meetingId)}/attendance/${seg(personId)}`, reason ? { status, reason } : { status }),
  attendanceCsvUrl: (meetingId: string) => `/api/meetings/${seg(meetingId)}/attendance.csv`,
  eventsUrl: (meetingId: string) => `/api/meetings/${seg(meetingId)}/events`,
  /** Tablets paired and revoked, live (staff who pair or revoke tablets). */
  deviceEventsUrl: '/api/devices/events',

  layout: (signal?: AbortSignal) => get<Layout>('/api/room/layout', signal),
  saveLayout: (layout: Layout) => send<Layout>('PUT', '/api/room/layout', layout),
  seats: (meetingId: string, signal?: AbortSignal) => get<MeetingSeats>(`/api/meetings/${seg(meetingId)}/seats`, signal),
  saveSeats: (meetingId: string, assignments: Assignments) =>
    send<MeetingSeats>('PUT', `/api/meetings/${seg(meetingId)}/seats`, { assignments }),
};

/** The error body of anything thrown by a call, for errorMessage(). */
export function errorBody(e: unknown): StaffErrorBody {
  if (e instanceof ApiError) return e.body;
  return { code: 'unknown' };
}

/** The API error's status (0 when the box was unreachable or the error is not an API error). */
export function errorStatus(e: unknown): number {
  return e instanceof ApiError ? e.status : 0;
}

export function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'AbortError';
}
