// The staff side of the JSON API (docs/api.md): people, import, bodies, meetings, attendance,
// pairing codes, devices and seating, through the one client in api.ts (types in types.ts).
import { request as call, type Method } from './api';
import type {
  Assignments,
  AttendanceSheet,
  AttendanceStatus,
  Attendance,
  Body,
  BodyKind,
  Device,
  DisplayCode,
  DisplayView,
  ImportPreview,
  ImportResult,
  DamagedDocuments,
  Layout,
  Me,
  Meeting,
  MeetingSeats,
  PairingCode,
  Person,
  PersonRow,
  Role,
  SessionInfo,
} from './types';
import type { Account } from './types';

// Callers import these from here or from api.ts / types.ts alike.
export { errorBody, errorStatus, isAbort } from './api';
export type * from './types';
export { BODY_KINDS, SETTABLE_STATUSES } from './types';

/** A row of `GET /api/accounts` (IT admin). */
export interface AccountRow extends Account {
  disabled: boolean;
  created_at: string;
  password_set_at: string | null;
  sessions: number;
}

/** The roles a staff account may hold. */
export const STAFF_ROLES: readonly Role[] = ['secretary', 'chair', 'it_admin'];

const get = async <T>(path: string, signal?: AbortSignal): Promise<T> => (await call<T>('GET', path, { signal })).data;
const send = async <T>(method: Method, path: string, json?: unknown): Promise<T> => (await call<T>(method, path, { json })).data;
const seg = encodeURIComponent;

/** The staff API, one function per call of docs/api.md. */
export const staffApi = {
  damagedDocuments: (signal?: AbortSignal) => get<DamagedDocuments>('/api/integrity', signal),
  session: (signal?: AbortSignal) => get<SessionInfo>('/api/session', signal),
  signIn: (username: string, password: string) => send<SessionInfo>('POST', '/api/session', { username, password }),
  signOut: () => send<null>('DELETE', '/api/session'),
  me: (signal?: AbortSignal) => get<Me>('/api/me', signal),
  changePassword: (current: string, next: string) => send<null>('POST', '/api/session/password', { current, new: next }),

  accounts: async (signal?: AbortSignal) => (await get<{ accounts: AccountRow[] }>('/api/accounts', signal)).accounts,
  createAccount: (a: { username: string; display_name: string; roles: Role[]; password: string }) =>
    send<AccountRow>('POST', '/api/accounts', a),
  resetPassword: (username: string, password: string) => send<null>('PUT', `/api/accounts/${seg(username)}/password`, { password }),
  endSessions: (username: string) => send<{ ended: number }>('DELETE', `/api/accounts/${seg(username)}/sessions`),
  disableAccount: (username: string) => send<null>('POST', `/api/accounts/${seg(username)}/disable`),
  enableAccount: (username: string) => send<null>('POST', `/api/accounts/${seg(username)}/enable`),
  removeAccount: (username: string) => send<null>('DELETE', `/api/accounts/${seg(username)}`),

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

  /** Projector screens: a code for a new one, the list, revoking one. */
  displayCode: (label: string) => call<DisplayCode>('POST', '/api/displays/code', { json: { label } }),
  displays: async (signal?: AbortSignal) => (await get<{ displays: DisplayView[] }>('/api/displays', signal)).displays,
  revokeDisplay: (id: string) => send<null>('DELETE', `/api/displays/${seg(id)}`),

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
