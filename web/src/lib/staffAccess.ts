// Which parts of the staff screens each role may open (docs/api.md "Who may do what"). The desk's
// tabs and tiles show only these, and a screen opened by its address without them says so
// instead of calling the API for a 403.
import type { MessageKey } from './i18n';
import type { Role } from './staffApi';

export type Section = 'desk' | 'people' | 'bodies' | 'meetings' | 'prepare' | 'attendance' | 'seats' | 'seating' | 'chair' | 'accounts' | 'password' | 'displays';

const SECTIONS: Partial<Record<Role, readonly Section[]>> = {
  // The whole desk.
  secretary: ['desk', 'people', 'bodies', 'meetings', 'prepare', 'attendance', 'seats', 'seating', 'displays', 'chair', 'password'],
  // Meetings: review (approve or send back) and the console.
  chair: ['meetings', 'prepare', 'chair', 'password'],
  // Reads people and bodies, lists and revokes tablets (on a person's page); no meetings.
  // Manages staff accounts.
  it_admin: ['desk', 'people', 'bodies', 'accounts', 'password'],
};

/** The desk's tabs, in order. */
const TABS: readonly { section: Section; href: string; key: MessageKey; exact?: boolean }[] = [
  { section: 'desk', href: '/desk', key: 'staff.nav.desk', exact: true },
  { section: 'people', href: '/desk/people', key: 'staff.nav.people' },
  { section: 'bodies', href: '/desk/bodies', key: 'staff.nav.bodies' },
  { section: 'meetings', href: '/desk/meetings', key: 'staff.nav.meetings' },
  { section: 'seating', href: '/desk/seating', key: 'staff.nav.seating' },
  { section: 'displays', href: '/desk/displays', key: 'staff.nav.displays' },
  { section: 'accounts', href: '/desk/accounts', key: 'staff.nav.accounts' },
];

export function mayOpen(roles: readonly Role[], section: Section): boolean {
  return roles.some((r) => SECTIONS[r]?.includes(section) ?? false);
}

/** The tabs these roles may use. */
export function tabsFor(roles: readonly Role[]): typeof TABS {
  return TABS.filter((tab) => mayOpen(roles, tab.section));
}

/** Where these roles start: their first tab (the desk, or the chair's meeting list). */
export function homeFor(roles: readonly Role[]): string {
  return tabsFor(roles)[0]?.href ?? '/';
}
