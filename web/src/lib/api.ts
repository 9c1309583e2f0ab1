// Talks to the box's JSON API on the same origin. Errors become ApiError with the server's code.
import type { ApiErrorBody } from './i18n';

export class ApiError extends Error {
  readonly status: number;
  readonly body: ApiErrorBody;

  constructor(status: number, body: ApiErrorBody) {
    super(body.code);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
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
  if (!res.ok) {
    throw new ApiError(res.status, isErrorBody(body) ? body : { code: 'unknown' });
  }
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
