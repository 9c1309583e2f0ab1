// Talks to the box's JSON API on the same origin. Errors become ApiError with the server's code.
import type { ApiErrorBody } from './i18n';

export class ApiError extends Error {
  readonly status: number;
  readonly body: ApiErrorBody;

  /** Seconds from a 429's `Retry-After` header, when the box sent one. */
  readonly retryAfter: number | null;

  constructor(status: number, body: ApiErrorBody, retryAfter: number | null = null) {
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

function failure(res: Response, body: unknown): ApiError {
  const err = isErrorBody(body) ? body : { code: 'unknown' };
  if (res.status === 401 && err.code === 'device.revoked') for (const hook of revokedHooks) hook();
  const retry = Number(res.headers.get('Retry-After'));
  return new ApiError(res.status, err, Number.isFinite(retry) && retry > 0 ? retry : null);
}

function isErrorBody(value: unknown): value is ApiErrorBody {
  return typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'string';
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      headers: { Accept: 'application/json' },
      credentials: 'same-origin',
      cache: 'no-store',
      signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    // The box is unreachable (Wi-Fi down, box restarting).
    throw new ApiError(0, { code: 'network' });
  }
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) throw failure(res, body);
  return body as T;
}

/** A write (the browser adds `Origin`); the answer's JSON, or null for 204. */
export async function sendJson<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, json?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: json === undefined ? { Accept: 'application/json' } : { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: json === undefined ? undefined : JSON.stringify(json),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, { code: 'network' });
  }
  const body: unknown = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) throw failure(res, body);
  return body as T;
}

/** A room-wide notice from the secretary. */
export interface Notice {
  text: string;
  at: string;
}

/** `GET /api/room`. */
export interface RoomInfo {
  name: string;
  node_id: string;
  role: string;
  version: string;
  head_seq: number;
  notice: Notice | null;
}

/** One message of `GET /api/room/events`. */
export interface RoomEvent<B = unknown> {
  seq: number;
  kind: string;
  at: string;
  body: B;
}
