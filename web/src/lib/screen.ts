// The projector screen (/screen): which meeting the wall shows, and the display's pairing.
// A display is a read-only device: the secretary gives a code, the screen enters it (or opens
// the QR link), and the box answers with a cookie the screen keeps for 180 days.
import { getJson, sendJson } from './api';
import type { Phase } from './generated/contract';
import type { DisplayView, Me, Meeting } from './types';

/** A meeting as the screen's list shows it. */
export type ScreenMeeting = Meeting & { live_phase?: Phase; place?: string | null };

/** The local calendar day of a time, as `YYYY-MM-DD` in this screen's time zone. */
function dayOf(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

/**
 * The meeting the wall shows: one running or in recess (the latest to start, if several),
 * else the next one of today not yet started (the earliest), else one that ended today (so the
 * room reads "Đã bế mạc"), else none.
 */
export function pickMeeting(list: readonly ScreenMeeting[], nowMs: number): ScreenMeeting | null {
  const starts = (m: ScreenMeeting) => Date.parse(m.starts_at);
  const live = list.filter((m) => m.live_phase === 'running' || m.live_phase === 'paused');
  if (live.length > 0) return [...live].sort((a, b) => starts(b) - starts(a))[0] ?? null;
  const today = dayOf(nowMs);
  const todays = list.filter((m) => Number.isFinite(starts(m)) && dayOf(starts(m)) === today);
  const next = todays.filter((m) => (m.live_phase ?? 'not_started') === 'not_started').sort((a, b) => starts(a) - starts(b));
  if (next[0]) return next[0];
  const ended = todays.filter((m) => m.live_phase === 'ended').sort((a, b) => starts(b) - starts(a));
  return ended[0] ?? null;
}

export const screenApi = {
  me: (signal?: AbortSignal) => getJson<Me>('/api/me', signal),
  pair: (code: string, label: string) => sendJson<DisplayView>('POST', '/api/displays/pair', { code, label }),
  meetings: async (signal?: AbortSignal) => (await getJson<{ meetings: ScreenMeeting[] }>('/api/meetings', signal)).meetings,
};

/** The code from a QR link (`/screen?code=…`): the 6 digits, or the link's 22-digit form. */
export function codeFromLink(search: string): string | null {
  const raw = new URLSearchParams(search).get('code')?.replace(/\D/g, '') ?? '';
  return raw.length === 6 || raw.length === 22 ? raw : null;
}
