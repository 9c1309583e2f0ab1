// The staff screens' paths. Each screen is loaded on first use, so a delegate's tablet never
// downloads the secretary's desk. `:id` matches one path segment. `section` says who may open
// the screen (staffAccess.ts); `device`: a paired tablet may open it too (the chair's own
// tablet), the API deciding what it sees.
import type { Component } from 'svelte';
import type { RoomLive } from './room.svelte';
import type { Section } from './staffAccess';

export type StaffScreen = Component<{ room: RoomLive }>;
type Loader = () => Promise<{ default: StaffScreen }>;

export interface StaffRouteInfo {
  pattern: string;
  load: Loader;
  /** null: open to anyone (the sign-in screen). */
  section: Section | null;
  device: boolean;
}

const ROUTES: readonly [string, Section | null, Loader, { device?: boolean }?][] = [
  ['/staff/sign-in', null, () => import('../screens/staff/SignIn.svelte')],
  ['/desk', 'desk', () => import('../screens/staff/Desk.svelte')],
  ['/desk/people', 'people', () => import('../screens/staff/People.svelte')],
  ['/desk/people/:id', 'people', () => import('../screens/staff/PersonDetail.svelte')],
  ['/desk/bodies', 'bodies', () => import('../screens/staff/Bodies.svelte')],
  ['/desk/bodies/:id', 'bodies', () => import('../screens/staff/BodyMembers.svelte')],
  ['/desk/meetings', 'meetings', () => import('../screens/staff/Meetings.svelte')],
  ['/desk/meetings/:id/attendance', 'attendance', () => import('../screens/staff/Attendance.svelte')],
  ['/desk/meetings/:id/seats', 'seats', () => import('../screens/staff/MeetingSeats.svelte')],
  ['/desk/meetings/:id/prepare', 'prepare', () => import('../screens/prepare/Prepare.svelte'), { device: true }],
  ['/desk/seating', 'seating', () => import('../screens/staff/RoomLayout.svelte')],
  ['/desk/displays', 'displays', () => import('../screens/staff/Displays.svelte')],
  ['/desk/accounts', 'accounts', () => import('../screens/staff/Accounts.svelte')],
  ['/staff/sync', 'sync', () => import('../screens/staff/SyncStatus.svelte')],
  ['/staff/hub', 'hub', () => import('../screens/hub/HubBoxes.svelte')],
  ['/staff/hub/enrol', 'hub', () => import('../screens/hub/HubEnrol.svelte')],
  ['/staff/hub/meetings', 'handover', () => import('../screens/hub/HubMeetings.svelte')],
  ['/staff/archive', 'archive', () => import('../screens/hub/Archive.svelte')],
  ['/staff/archive/:id', 'archive', () => import('../screens/hub/ArchiveBox.svelte')],
  ['/staff/archive/:id/meetings/:id', 'archive', () => import('../screens/hub/ArchiveMeeting.svelte')],
  ['/staff/password', 'password', () => import('../screens/staff/ChangePassword.svelte')],
  ['/chair/meetings/:id', 'chair', () => import('../screens/staff/ChairConsole.svelte'), { device: true }],
];

function matches(pattern: string, path: string): boolean {
  const want = pattern.split('/');
  const got = path.replace(/\/+$/, '').split('/');
  if (want.length !== got.length) return false;
  return want.every((w, i) => (w === ':id' ? /^[0-9a-zA-Z_-]+$/.test(got[i] ?? '') : w === got[i]));
}

/** The staff screen for `path`, or null when no staff screen has that path. */
export function staffScreenFor(path: string): StaffRouteInfo | null {
  const hit = ROUTES.find(([pattern]) => matches(pattern, path));
  return hit ? { pattern: hit[0], section: hit[1], load: hit[2], device: hit[3]?.device ?? false } : null;
}

/** The screen shown instead of one the signed-in account may not open. */
export const loadNotAllowed: Loader = () => import('../screens/staff/NotAllowed.svelte');
