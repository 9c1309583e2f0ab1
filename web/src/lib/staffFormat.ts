// Dates, times, codes and countdowns as the staff screens show them.
import { LOCALE, type Lang } from './i18n';

function parse(iso: string | null | undefined): Date | null {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "08:05" */
export function timeOf(iso: string | null | undefined, l: Lang): string {
  const d = parse(iso);
  return d ? d.toLocaleTimeString(LOCALE[l], { hour: '2-digit', minute: '2-digit' }) : '';
}

/** "27/11/2026" */
export function dayOf(iso: string | null | undefined, l: Lang): string {
  const d = parse(iso);
  return d ? d.toLocaleDateString(LOCALE[l], { day: '2-digit', month: '2-digit', year: 'numeric' }) : '';
}

/** "08:05, 27/11/2026" */
export function dateTime(iso: string | null | undefined, l: Lang): string {
  const d = parse(iso);
  return d ? `${timeOf(iso, l)}, ${dayOf(iso, l)}` : '';
}

/** "Thứ Sáu, 27/11/2026": for the printed attendance list. */
export function longDay(iso: string | null | undefined, l: Lang): string {
  const d = parse(iso);
  if (!d) return '';
  const weekday = d.toLocaleDateString(LOCALE[l], { weekday: 'long' });
  return `${weekday.charAt(0).toUpperCase()}${weekday.slice(1)}, ${dayOf(iso, l)}`;
}

/** "483920" → "483 920": easier to read out and to type. */
export function groupCode(code: string): string {
  return code.length === 6 ? `${code.slice(0, 3)} ${code.slice(3)}` : code;
}

/** Milliseconds → "9:05". */
export function countdown(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** A Date as the value of <input type="datetime-local"> in this device's time zone. */
export function toLocalInput(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** The value of <input type="datetime-local"> as RFC 3339 in UTC, or null when incomplete. */
export function fromLocalInput(value: string): string | null {
  const d = parse(value);
  return d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : null;
}

/** The path segment after `prefix`, e.g. the meeting id of /desk/meetings/<id>/attendance. */
export function pathParam(path: string, prefix: string): string {
  if (!path.startsWith(prefix)) return '';
  const rest = path.slice(prefix.length);
  return decodeURIComponent(rest.split('/')[0] ?? '');
}
