// The staff screens' paths. Each screen is loaded on first use, so a delegate's tablet never
// downloads the secretary's desk. `:id` matches one path segment.
import type { Component } from 'svelte';
import type { RoomLive } from './room.svelte';

export type StaffScreen = Component<{ room: RoomLive }>;
type Loader = () => Promise<{ default: StaffScreen }>;

const ROUTES: readonly [string, Loader][] = [
  ['/staff/sign-in', () => import('../screens/staff/SignIn.svelte')],
  ['/desk', () => import('../screens/staff/Desk.svelte')],
  ['/desk/people', () => import('../screens/staff/People.svelte')],
  ['/desk/people/:id', () => import('../screens/staff/PersonDetail.svelte')],
  ['/desk/bodies', () => import('../screens/staff/Bodies.svelte')],
  ['/desk/bodies/:id', () => import('../screens/staff/BodyMembers.svelte')],
  ['/desk/meetings', () => import('../screens/staff/Meetings.svelte')],
  ['/desk/meetings/:id/attendance', () => import('../screens/staff/Attendance.svelte')],
  ['/desk/meetings/:id/seats', () => import('../screens/staff/MeetingSeats.svelte')],
  ['/desk/meetings/:id/prepare', () => import('../screens/prepare/Prepare.svelte')],
  ['/desk/seating', () => import('../screens/staff/RoomLayout.svelte')],
  ['/chair/meetings/:id', () => import('../screens/staff/ChairConsole.svelte')],
];

function matches(pattern: string, path: string): boolean {
  const want = pattern.split('/');
  const got = path.replace(/\/+$/, '').split('/');
  if (want.length !== got.length) return false;
  return want.every((w, i) => (w === ':id' ? /^[0-9a-zA-Z_-]+$/.test(got[i] ?? '') : w === got[i]));
}

/** The loader of the staff screen for `path`, or null when no staff screen has that path. */
export function staffScreenFor(path: string): { pattern: string; load: Loader } | null {
  const hit = ROUTES.find(([pattern]) => matches(pattern, path));
  return hit ? { pattern: hit[0], load: hit[1] } : null;
}
