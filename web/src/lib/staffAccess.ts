// Which parts of the staff screens each role may open (docs/api.md "Who may do what"). The desk's
// tabs and tiles show only these, and a screen opened by its address without them says so
// instead of calling the API for a 403.
import type { MessageKey } from './i18n';
import type { Role } from './staffApi';

export type Section = 'desk' | 'people' | 'bodies' | 'meetings' | 'prepare' | 'attendance' | 'seats' | 'seating' | 'chair' | 'accounts' | 'password' | 'displays' | 'sync' | 'hub' | 'archive' | 'handover';

const SECTIONS: Partial<Record<Role, readonly Section[]>> = {
  // The whole desk.
  secretary: ['desk', 'people', 'bodies', 'meetings', 'prepare', 'attendance', 'seats', 'seating', 'displays', 'chair', 'password', 'archive', 'handover'],
  // Meetings: review (approve or send back) and the console.
  chair: ['meetings', 'prepare', 'chair', 'password', 'archive'],
  // Reads people and bodies, lists and revokes tablets (on a person's page); no meetings.
  // Manages staff accounts.
  // On a room box, its sync with the central office; on the hub, the boxes, enrolment and the archive.
  it_admin: ['desk', 'people', 'bodies', 'accounts', 'password', 'sync', 'hub', 'archive', 'handover'],
};

/** The kind of node a tab belongs on (`GET /api/room` → role); none: both. */
export type NodeRole = 'room' | 'hub';

/** The desk's tabs, in order. */
const TABS: readonly { section: Section; href: string; key: MessageKey; exact?: boolean; node?: NodeRole }[] = [
  { section: 'desk', href: '/desk', key: 'staff.nav.desk', exact: true },
  { section: 'people', href: '/desk/people', key: 'staff.nav.people' },
  { section: 'bodies', href: '/desk/bodies', key: 'staff.nav.bodies' },
  { section: 'meetings', href: '/desk/meetings', key: 'staff.nav.meetings' },
  // The room's seats and its projector screens: a room box's, not the office's.
  { section: 'seating', href: '/desk/seating', key: 'staff.nav.seating', node: 'room' },
  { section: 'displays', href: '/desk/displays', key: 'staff.nav.displays', node: 'room' },
  { section: 'sync', href: '/staff/sync', key: 'staff.nav.sync', node: 'room' },
  { section: 'hub', href: '/staff/hub', key: 'staff.nav.hub_boxes', exact: true, node: 'hub' },
  { section: 'hub', href: '/staff/hub/enrol', key: 'staff.nav.hub_enrol', node: 'hub' },
  { section: 'handover', href: '/staff/hub/meetings', key: 'staff.nav.handover', node: 'hub' },
  { section: 'archive', href: '/staff/archive', key: 'staff.nav.archive', node: 'hub' },
  { section: 'accounts', href: '/desk/accounts', key: 'staff.nav.accounts' },
];

export function mayOpen(roles: readonly Role[], section: Section): boolean {
  return roles.some((r) => SECTIONS[r]?.includes(section) ?? false);
}

/** The tabs these roles may use on this kind of node (unknown yet: the tabs of both kinds are left out). */
export function tabsFor(roles: readonly Role[], node: string | null = null): typeof TABS {
  return TABS.filter((tab) => mayOpen(roles, tab.section) && (tab.node === undefined || tab.node === node));
}

/** Where these roles start: their first tab (the desk, or the chair's meeting list). */
export function homeFor(roles: readonly Role[]): string {
  return tabsFor(roles)[0]?.href ?? '/';
}
