// The delegate's side of the API (docs/api.md): who this device belongs to, pairing, my meetings,
// check-in and leave of absence. One `delegate` instance per page knows "who am I" and whether
// the box has revoked this tablet; every delegate screen reads it.
import { ApiError, getJson, onDeviceRevoked, sendJson } from './api';
import { createKeyPair, publicKeyB64, signWith } from './devicekey';
import { LOCALE, type ApiErrorBody, type Lang } from './i18n';
import type { Attendance, AttendanceSheet, Me, MeetingRole, MeetingSeats, MyMeeting, Paired, Person } from './types';

export type * from './types';

const seg = encodeURIComponent;

export const delegateApi = {
  me: (signal?: AbortSignal) => getJson<Me>('/api/me', signal),
  meetings: async (signal?: AbortSignal) => (await getJson<{ meetings: MyMeeting[] }>('/api/meetings', signal)).meetings,
  meeting: (id: string, signal?: AbortSignal) => getJson<MyMeeting>(`/api/meetings/${seg(id)}`, signal),
  attendance: (id: string, signal?: AbortSignal) => getJson<AttendanceSheet>(`/api/meetings/${seg(id)}/attendance`, signal),
  seats: (id: string, signal?: AbortSignal) => getJson<MeetingSeats>(`/api/meetings/${seg(id)}/seats`, signal),
  checkIn: (id: string) => sendJson<Attendance>('POST', `/api/meetings/${seg(id)}/check-in`),
  absence: (id: string, reason: string) => sendJson<Attendance>('POST', `/api/meetings/${seg(id)}/absence`, { reason }),
  eventsUrl: (id: string) => `/api/meetings/${seg(id)}/events`,
};

/**
 * Pairs this device: a fresh non-extractable P-256 key (stored in IndexedDB), its public key,
 * and a signature over `phonghop-pair:<node_id>:<code>`, sent with the code and the PIN.
 */
export async function pairDevice(code: string, pin: string): Promise<Paired> {
  const room = await getJson<{ node_id: string }>('/api/room');
  const pair = await createKeyPair();
  const [public_key, signature] = await Promise.all([
    publicKeyB64(pair),
    signWith(pair, `phonghop-pair:${room.node_id}:${code}`),
  ]);
  return sendJson<Paired>('POST', '/api/devices/pair', { code, pin, public_key, signature, label: deviceLabel() });
}

/** A friendly name for this device, for the secretary's list: "iPad", "Điện thoại Android"… */
export function deviceLabel(ua = navigator.userAgent, touchPoints = navigator.maxTouchPoints ?? 0): string {
  if (/iPad/.test(ua) || (/Macintosh/.test(ua) && touchPoints > 1)) return 'iPad'; // iPadOS asks for desktop sites
  if (/iPhone|iPod/.test(ua)) return 'iPhone';
  if (/Android/.test(ua)) return /Mobile/.test(ua) ? 'Điện thoại Android' : 'Máy tính bảng Android';
  if (/CrOS/.test(ua)) return 'Chromebook';
  if (/Windows/.test(ua)) return 'Máy tính Windows';
  if (/Macintosh|Mac OS X/.test(ua)) return 'Máy Mac';
  if (/Linux/.test(ua)) return 'Máy tính Linux';
  return 'Máy tính bảng';
}

/** Who this device belongs to, and whether the box has revoked it. */
class DelegateSession {
  me = $state<Me | null>(null);
  loadError = $state<ApiErrorBody | null>(null);
  /** The box answered 401 device.revoked to some call. */
  revoked = $state(false);
  /** Set right after pairing, so "my meetings" can greet the person once. */
  justPaired = $state<Person | null>(null);

  #loading: Promise<void> | null = null;

  constructor() {
    onDeviceRevoked(() => {
      this.revoked = true;
    });
  }

  get person(): Person | null {
    return this.me && this.me.kind !== 'anonymous' ? this.me.person : null;
  }

  get paired(): boolean {
    return this.me?.kind === 'device';
  }

  /** `GET /api/me` once per page (again with `force`); concurrent callers share the request. */
  load(force = false): Promise<void> {
    if (this.#loading) return this.#loading;
    if (this.me && !force) return Promise.resolve();
    this.#loading = (async () => {
      try {
        this.me = await delegateApi.me();
        this.loadError = null;
        if (this.me.kind === 'device') this.revoked = false;
      } catch (e) {
        this.loadError = e instanceof ApiError ? e.body : { code: 'unknown' };
      } finally {
        this.#loading = null;
      }
    })();
    return this.#loading;
  }

  didPair(result: Paired): void {
    this.me = { kind: 'device', device: result.device, person: result.person };
    this.revoked = false;
    this.justPaired = result.person;
  }

  /** After "pair again" on the revoked screen: this device is nobody's until paired. */
  forget(): void {
    this.me = { kind: 'anonymous' };
    this.revoked = false;
    this.justPaired = null;
  }
}

export const delegate = new DelegateSession();

/** The message key for a meeting role. */
export function roleKey(
  role: MeetingRole,
): 'delegate.role.delegate' | 'delegate.role.guest' | 'delegate.role.chair' | 'delegate.role.secretary' | 'delegate.role.projector' {
  return `delegate.role.${role}`;
}

function validDate(iso: string): Date | null {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "08:02" (24-hour clock, local time of the tablet). */
export function formatTime(iso: string, l: Lang): string {
  const d = validDate(iso);
  return d ? d.toLocaleTimeString(LOCALE[l], { hour: '2-digit', minute: '2-digit', hour12: false }) : '';
}

/** "Thứ Sáu, 27/11/2026" / "Friday 27/11/2026". */
export function formatDay(iso: string, l: Lang): string {
  const d = validDate(iso);
  if (!d) return '';
  const weekday = d.toLocaleDateString(LOCALE[l], { weekday: 'long' });
  const day = d.toLocaleDateString(LOCALE[l], { day: '2-digit', month: '2-digit', year: 'numeric' });
  // Vietnamese capitalises "Thứ"; some engines give "thứ sáu".
  const wd = weekday.charAt(0).toLocaleUpperCase(LOCALE[l]) + weekday.slice(1);
  return `${wd}, ${day}`;
}

/** Local calendar day, for "today" and sorting into upcoming/past. */
export function dayKey(d: Date): number {
  return d.getFullYear() * 10_000 + (d.getMonth() + 1) * 100 + d.getDate();
}
