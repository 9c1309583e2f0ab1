// Who is using the staff screens: a staff account signed in with a password, or (for the chair
// console only) a tablet paired to the person who chairs the meeting. One instance per page.
import { navigate } from './router';
import { homeFor } from './staffAccess';
import { errorBody, errorStatus, isAbort, staffApi, type Account, type Me, type Role, type StaffErrorBody } from './staffApi';

export type SessionState = 'loading' | 'staff' | 'device' | 'anonymous' | 'error';

export const SIGN_IN_PATH = '/staff/sign-in';

class StaffSession {
  state = $state<SessionState>('loading');
  account = $state<Account | null>(null);
  /** A broken hash chain, shown to staff on every screen. */
  brokenLog = $state<{ seq: number; reason: string } | null>(null);
  /** The paired tablet's person, when the visitor is a device rather than staff. */
  me = $state<Me | null>(null);
  error = $state<StaffErrorBody | null>(null);
  #loading: Promise<void> | null = null;

  /** Loads once per page (and again after sign-in or sign-out). */
  ensure(): Promise<void> {
    this.#loading ??= this.#load();
    return this.#loading;
  }

  async #load(): Promise<void> {
    try {
      const session = await staffApi.session();
      if (session.signed_in && session.account) {
        this.account = session.account;
        const i = session.integrity;
        this.brokenLog = i?.status === 'broken' ? { seq: i.seq, reason: i.reason } : null;
        this.state = 'staff';
        return;
      }
      this.account = null;
      // Not staff: perhaps the chair's own tablet.
      try {
        const me = await staffApi.me();
        this.me = me;
        this.state = me.kind === 'device' ? 'device' : 'anonymous';
      } catch (e) {
        if (errorStatus(e) === 404 || errorStatus(e) === 401) this.state = 'anonymous';
        else throw e;
      }
    } catch (e) {
      if (isAbort(e)) return;
      this.error = errorBody(e);
      this.state = 'error';
      this.#loading = null; // try again next time
    }
  }

  /** After a successful `POST /api/session`. */
  signedIn(account: Account): void {
    this.account = account;
    this.state = 'staff';
    this.error = null;
    this.#loading = Promise.resolve();
  }

  async signOut(): Promise<void> {
    await staffApi.signOut();
    this.account = null;
    this.me = null;
    this.state = 'anonymous';
    this.#loading = Promise.resolve();
    navigate(SIGN_IN_PATH);
  }

  /** The box no longer knows this visitor (the IT admin ended their sessions, disabled the
   * account or reset its password): forget them and ask to sign in again. */
  lost(): void {
    this.account = null;
    this.me = null;
    this.state = 'anonymous';
    this.#loading = Promise.resolve();
    goSignIn();
  }

  has(role: Role): boolean {
    return this.account?.roles.includes(role) ?? false;
  }
}

export const staffSession = new StaffSession();

/** Sends the visitor to sign in, and back here afterwards. */
export function goSignIn(): void {
  const here = location.pathname + location.search;
  navigate(`${SIGN_IN_PATH}?next=${encodeURIComponent(here)}`);
}

/**
 * Where to go after signing in: the `next` parameter when it is a path of this app, else where
 * the account's role starts (the desk; the chair's meeting list).
 */
export function afterSignIn(account: Account): string {
  const next = new URLSearchParams(location.search).get('next');
  if (next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith(SIGN_IN_PATH)) return next;
  return homeFor(account.roles);
}
