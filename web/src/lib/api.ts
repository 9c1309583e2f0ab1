// The web app's one client for the box's JSON API (same origin). Every call goes through
// `request`: errors become ApiError with the box's code (and `retry_after` from a 429's
// `Retry-After`), a 401 `device.revoked` from any call tells every screen this tablet was
// revoked, and the `Date` header tells how far the box's clock is from ours. Response types
// live in types.ts.
import { FROM_CACHE_HEADER } from './offlineNames';
import type { ApiErrorBody, StaffErrorBody } from './types';

const SKEW_KEY = 'phonghop-box-clock-skew';

function storedSkew(): number {
  try {
    const v = Number(localStorage.getItem(SKEW_KEY));
    return Number.isFinite(v) ? v : 0;
  } catch {
    return 0;
  }
}

/** Box time minus this device's time, from the last fresh answer of the box (kept across reloads). */
let boxSkewMs = storedSkew();

/**
 * The box's time now, as well as this device knows it: a tablet's own clock may be days off (a
 * flat battery), and what is judged by the date (downloads of meetings ended 30 days ago) must
 * follow the box's clock, even at home with no box in reach.
 */
export function boxNow(): number {
  return Date.now() + boxSkewMs;
}

export class ApiError extends Error {
  readonly status: number;
  readonly body: StaffErrorBody;

  /** Seconds from a 429's `Retry-After` header, when the box sent one. */
  readonly retryAfter: number | null;

  constructor(status: number, body: StaffErrorBody, retryAfter: number | null = null) {
    super(body.code);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
    this.retryAfter = retryAfter;
  }
}

/** Told when any call learns that this tablet was revoked (401 device.revoked). */
const revokedHooks = new Set<() => void>();

export function onDeviceRevoked(hook: () => void): () => void {
  revokedHooks.add(hook);
  return () => revokedHooks.delete(hook);
}

/** Told when any call learns that this projector screen was revoked (401 display.revoked). */
const displayRevokedHooks = new Set<() => void>();

export function onDisplayRevoked(hook: () => void): () => void {
  displayRevokedHooks.add(hook);
  return () => displayRevokedHooks.delete(hook);
}

function isErrorBody(value: unknown): value is StaffErrorBody {
  return typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'string';
}

/**
 * The error for a failed answer: the box's code (or `unknown`), `retry_after` from a 429, and
 * a revoked device reported to every screen. Also used by the upload (XMLHttpRequest) path.
 */
export function failure(status: number, body: unknown, retryAfterHeader: string | null, fallback = 'unknown'): ApiError {
  const err: StaffErrorBody = isErrorBody(body) ? body : { code: fallback };
  if (status === 401 && err.code === 'device.revoked') for (const hook of revokedHooks) hook();
  if (status === 401 && err.code === 'display.revoked') for (const hook of displayRevokedHooks) hook();
  const retry = Number(retryAfterHeader);
  const retryAfter = retryAfterHeader !== null && Number.isFinite(retry) && retry > 0 ? retry : null;
  if (retryAfter !== null) err.retry_after = retryAfter;
  return new ApiError(status, err, retryAfter);
}

/** A successful answer and, from its `Date` header, how far the box's clock is ahead of ours. */
export interface Answer<T> {
  data: T;
  /** Box time minus this device's time, in ms (0 when unknown). The box's clock may be off. */
  clockSkewMs: number;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RequestInit {
  json?: unknown;
  raw?: Blob;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** One call to the box. Throws ApiError (status 0 when the box was unreachable). */
export async function request<T>(method: Method, path: string, init: RequestInit = {}): Promise<Answer<T>> {
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
    // The box is unreachable (Wi-Fi down, box restarting).
    throw new ApiError(0, { code: 'network' });
  }
  let text = '';
  try {
    text = res.status === 204 ? '' : await res.text();
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, { code: 'network' });
  }
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!res.ok) throw failure(res.status, parsed, res.headers.get('Retry-After'));
  let clockSkewMs = 0;
  const date = Date.parse(res.headers.get('Date') ?? '');
  if (!Number.isNaN(date)) {
    // The header has whole seconds: compare with the middle of the round trip, ignore < 2 s.
    const skew = date + 500 - (sentAt + Date.now()) / 2;
    if (Math.abs(skew) > 2_000) clockSkewMs = skew;
    if (res.headers.get(FROM_CACHE_HEADER) === null && clockSkewMs !== boxSkewMs) {
      boxSkewMs = clockSkewMs;
      try {
        localStorage.setItem(SKEW_KEY, String(Math.round(clockSkewMs)));
      } catch {
        // No storage (private mode): kept for this page only.
      }
    }
  }
  return { data: parsed as T, clockSkewMs };
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await request<T>('GET', path, { signal })).data;
}

/** A write (the browser adds `Origin`); the answer's JSON, or null for 204. */
export async function sendJson<T>(method: Exclude<Method, 'GET'>, path: string, json?: unknown): Promise<T> {
  return (await request<T>(method, path, { json })).data;
}

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

export type { ApiErrorBody };
