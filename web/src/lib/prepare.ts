// Preparing a meeting (docs/api.md "Preparing a meeting"): the agenda, its documents and their
// versions, review and publishing. Shared by the secretary's preparation screen, the delegate's
// document list and the reader. Failures are ApiError with the box's code, like api.ts.
import { ApiError, failure, getJson, sendJson } from './api';
import type { AgendaItem, DocVersion, ItemFields, Meeting, MeetingDocument, MeetingFields, PersonRow, PreparedMeeting } from './types';

export type * from './types';

const seg = encodeURIComponent;
const M = (id: string): string => `/api/meetings/${seg(id)}`;

export const prepareApi = {
  meeting: (id: string, signal?: AbortSignal) => getJson<PreparedMeeting>(M(id), signal),
  updateMeeting: (id: string, fields: MeetingFields) => sendJson<unknown>('PUT', M(id), fields),

  addItem: (id: string, item: ItemFields) => sendJson<AgendaItem>('POST', `${M(id)}/items`, item),
  updateItem: (id: string, itemId: string, item: ItemFields) => sendJson<AgendaItem>('PUT', `${M(id)}/items/${seg(itemId)}`, item),
  deleteItem: (id: string, itemId: string) => sendJson<null>('DELETE', `${M(id)}/items/${seg(itemId)}`),
  /** `expected` is the order this screen showed; the box answers 409 agenda.stale if it changed. */
  reorder: (id: string, order: string[], expected: string[]) => sendJson<unknown>('PUT', `${M(id)}/agenda`, { order, expected }),

  updateDocument: (docId: string, fields: { title?: string; number?: string | null; restricted_to?: string[] | null }) =>
    sendJson<MeetingDocument>('PUT', `/api/documents/${seg(docId)}`, fields),
  deleteDocument: (docId: string) => sendJson<null>('DELETE', `/api/documents/${seg(docId)}`),

  submit: (id: string) => sendJson<unknown>('POST', `${M(id)}/submit`),
  approve: (id: string) => sendJson<unknown>('POST', `${M(id)}/approve`),
  sendBack: (id: string, comment: string) => sendJson<unknown>('POST', `${M(id)}/send-back`, { comment }),
  publish: (id: string) => sendJson<unknown>('POST', `${M(id)}/publish`),
};

/**
 * Where a new document of an agenda item is uploaded. With `restrictedTo`, the document is
 * restricted to those people from the start: no invitee outside the list ever sees it.
 */
export function newDocumentUrl(meetingId: string, itemId: string, title: string, number: string, restrictedTo: string[] | null = null): string {
  const q = new URLSearchParams({ title });
  if (number) q.set('number', number);
  if (restrictedTo && restrictedTo.length > 0) q.set('restricted_to', restrictedTo.join(','));
  return `${M(meetingId)}/items/${seg(itemId)}/documents?${q.toString()}`;
}

/** Someone invited to the meeting, as the document access choice lists them. */
export interface Invitee {
  id: string;
  name: string;
  guest: boolean;
}

/** The meeting's members, then its guests, named from `people` (the id when unknown). */
export function inviteesOf(meeting: Pick<Meeting, 'members' | 'guests'>, people: PersonRow[]): Invitee[] {
  const byId = new Map(people.map((p) => [p.id, p]));
  return [
    ...meeting.members.map((id) => ({ id, name: byId.get(id)?.name ?? id, guest: false })),
    ...meeting.guests.map((id) => ({ id, name: byId.get(id)?.name ?? id, guest: true })),
  ];
}

/** Where a new version of a document is uploaded. */
export function newVersionUrl(docId: string): string {
  return `/api/documents/${seg(docId)}/versions`;
}

/** What the file picker offers: PDF first, then the usual office attachments and images. */
export const ACCEPT =
  '.pdf,application/pdf,.docx,.doc,.xlsx,.xls,.pptx,.odt,.ods,.jpg,.jpeg,.png,.webp,' +
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document,' +
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,image/jpeg,image/png';

const TYPES_BY_EXT: Record<string, string> = {
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  doc: 'application/msword',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  xls: 'application/vnd.ms-excel',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  odt: 'application/vnd.oasis.opendocument.text',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
};

/** The file's type, from its extension when the browser gave none (Windows often gives none). */
export function contentTypeOf(file: File): string {
  if (file.type) return file.type;
  const ext = file.name.split('.').pop()?.toLowerCase() ?? '';
  return TYPES_BY_EXT[ext] ?? 'application/octet-stream';
}

/** "Tờ trình số 12.pdf" → "Tờ trình số 12": a first guess for the document's title. */
export function titleFromFileName(name: string): string {
  return name.replace(/\.[A-Za-z0-9]{1,5}$/, '').replace(/[_]+/g, ' ').trim();
}

/** A running upload: its progress, and a way to stop it. */
export interface Upload {
  done: Promise<MeetingDocument>;
  abort: () => void;
}

/**
 * Sends `file` raw to `url` with XMLHttpRequest, for its upload progress (fetch has none on
 * iPadOS 16). `onProgress` gets the bytes sent and the total. The box stores nothing from an
 * interrupted upload.
 */
export function uploadFile(url: string, file: File, onProgress: (sent: number, total: number) => void): Upload {
  const xhr = new XMLHttpRequest();
  const done = new Promise<MeetingDocument>((resolve, reject) => {
    xhr.open('POST', url);
    xhr.responseType = 'text';
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Content-Type', contentTypeOf(file));
    xhr.setRequestHeader('X-File-Name', encodeURIComponent(file.name));
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(file.size, file.size);
        resolve(body as MeetingDocument);
      } else {
        reject(failure(xhr.status, body, xhr.getResponseHeader('Retry-After'), xhr.status === 413 ? 'document.too_large' : 'unknown'));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, { code: 'network' }));
    xhr.onabort = () => reject(new ApiError(0, { code: 'upload.cancelled' }));
    xhr.send(file);
  });
  return { done, abort: () => xhr.abort() };
}

/** "PDF", "DOCX", "XLSX", "JPG": what the file is, in the words people see on their computers. */
export function fileLabel(doc: MeetingDocument): string {
  if (doc.kind === 'pdf') return 'PDF';
  const name = currentVersion(doc)?.file_name ?? '';
  const ext = /\.([A-Za-z0-9]{1,5})$/.exec(name)?.[1];
  return ext ? ext.toUpperCase() : 'FILE';
}

/** The current (last) version of a document. */
export function currentVersion(doc: MeetingDocument): DocVersion | null {
  return doc.versions[doc.versions.length - 1] ?? null;
}

/** The documents of one agenda item, in upload order. */
export function documentsOf(meeting: PreparedMeeting, itemId: string): MeetingDocument[] {
  return (meeting.documents ?? []).filter((d) => d.item_id === itemId);
}

/** Documents not under any item of the agenda (an item removed by someone else meanwhile). */
export function looseDocuments(meeting: PreparedMeeting): MeetingDocument[] {
  const ids = new Set((meeting.agenda ?? []).map((i) => i.id));
  return (meeting.documents ?? []).filter((d) => !ids.has(d.item_id));
}

/** "1,2 MB", "350 kB": decimal units, as phones and Windows show them. */
export function formatSize(bytes: number, locale: string): string {
  const fmt = (n: number, digits: number): string => n.toLocaleString(locale, { maximumFractionDigits: digits });
  if (bytes >= 1_000_000) return `${fmt(bytes / 1_000_000, 1)} MB`;
  if (bytes >= 1_000) return `${fmt(Math.round(bytes / 1_000), 0)} kB`;
  return `${bytes} B`;
}

/** Calendar days from `from` to `to` in this device's time zone (negative when `to` is earlier). */
export function calendarDaysBetween(fromIso: string, toIso: string): number | null {
  const a = new Date(fromIso);
  const b = new Date(toIso);
  if (Number.isNaN(a.getTime()) || Number.isNaN(b.getTime())) return null;
  const dayA = Date.UTC(a.getFullYear(), a.getMonth(), a.getDate());
  const dayB = Date.UTC(b.getFullYear(), b.getMonth(), b.getDate());
  return Math.round((dayB - dayA) / 86_400_000);
}

/** The reader's address for a document (the meeting's id finds the document's details). */
export function readerPath(meetingId: string, docId: string, version?: number): string {
  const base = `/read/${seg(meetingId)}/${seg(docId)}`;
  return version === undefined ? base : `${base}/v/${version}`;
}

/** The download address of a version, with its real file name for the browser's "Save". */
export function downloadUrl(v: DocVersion): string {
  const sep = v.url.includes('?') ? '&' : '?';
  return `${v.url}${sep}name=${encodeURIComponent(v.file_name)}`;
}
