// Every request and response shape of the JSON API (docs/api.md), in one file, so that types
// generated from the Rust response types can replace it whole. No code here, only types (and
// the few constant lists that belong to a type).
import type { ApiErrorBody } from './i18n';
import type { DisplayView, HandedOver, Phase } from './generated/contract';

export type { ApiErrorBody };

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

/** One failing cell of an import row, or the field of an `input.*` error. */
export interface FieldError {
  field: string;
  code: string;
  message?: string;
  message_en?: string;
}

/** An error body as the staff calls may receive it: the common one plus `field` and `rows`. */
export interface StaffErrorBody extends ApiErrorBody {
  field?: string;
  rows?: unknown;
  /** From the `Retry-After` header of a 429, in seconds (not part of the JSON). */
  retry_after?: number;
}

/** A row of `GET /api/people`. */
export interface PersonRow extends Person {
  devices: number;
  has_pin: boolean;
}


export interface Account {
  username: string;
  display_name: string;
  roles: Role[];
  person_id?: string | null;
}

/** `GET /api/session`, `POST /api/session`. */
/** What the box knows of its record's hash chain (staff only). */
export type Integrity =
  | { status: 'intact'; events: number }
  | { status: 'checking'; upto: number }
  | { status: 'broken'; origin: string; seq: number; reason: string };

export interface SessionInfo {
  signed_in: boolean;
  account?: Account;
  integrity?: Integrity;
  /** For staff: document files found not to match their hash (`GET /api/integrity` says which). */
  damaged_blobs?: number;
}

/** `GET /api/integrity`: document files the box found damaged; IT staff get the count only. */
export interface DamagedDocuments {
  damaged_blobs: number;
  documents: { meeting_id: string; meeting_title: string; document_id: string; title: string; version: number; file_name: string; sha256: string }[];
}

/** `GET /api/me`. */
export type Me =
  | { kind: 'anonymous' }
  | { kind: 'staff'; account: Account; person: Person | null }
  | { kind: 'device'; device: { id: string; label: string; paired_at: string }; person: Person }
  | { kind: 'display'; display: DisplayView; person: null };

export type PersonKind = 'member' | 'guest';

export interface ImportRow {
  line: number;
  ok: boolean;
  /** The row's cells as read from the file, shown when the row has no valid person. */
  cells: { name: string; position: string; unit: string; phone: string; role: string };
  person?: { name: string; position: string | null; unit: string | null; phone: string | null; kind: PersonKind };
  errors: FieldError[];
}

export interface ImportPreview {
  preview_id: string;
  format: 'csv' | 'xlsx';
  header_row: number;
  rows: ImportRow[];
  valid: number;
  invalid: number;
  /** Set when the file's Vietnamese letters were lost (`import.lost_letters`) or misread. */
  damage: ApiErrorBody | null;
}

export interface ImportResult {
  imported: number;
  skipped: number;
}

// Types the box's Rust code defines: generated, so a change there fails this app's check.
export type {
  AttendanceStatus,
  BodyKind,
  ChangedDetails,
  FeedEvent,
  EventBody,
  Layout,
  LayoutShape,
  MeetingRole,
  MeetingStatus,
  Quorum,
  Role,
  Seat,
  Threshold,
} from './generated/contract';
/** The box's response types, generated from `appliance/src/http/views.rs`. */
export type {
  AttendanceRow as Attendance,
  AttendanceSheet,
  DisplayCode,
  DisplayView,
  DocumentView,
  MeetingView,
  PersonView as Person,
  PublishWarning,
  VersionView as DocVersion,
} from './generated/contract';
import type {
  AttendanceRow as Attendance,
  PersonView as Person,
  PublishWarning,
  VersionView as DocVersion,
  AttendanceStatus,
  BodyKind,
  ChangedDetails,
  Layout,
  MeetingRole,
  MeetingStatus,
  Quorum,
  Role,
  Threshold,
} from './generated/contract';
export const BODY_KINDS: readonly BodyKind[] = ['ubnd', 'hdnd', 'party', 'other'];

export interface Body {
  id: string;
  name: string;
  kind: BodyKind;
  quorum: Threshold;
  pass: Threshold;
  members: string[];
}

export interface Meeting {
  id: string;
  body_id: string;
  title: string;
  starts_at: string;
  chair_id: string | null;
  members: string[];
  guests: string[];
  my_role?: MeetingRole;
  /** Where the live meeting stands (the projector screen picks the running one). */
  live_phase?: Phase;
}

/** What the secretary can set with one tap, in the order the desk shows them. */
export const SETTABLE_STATUSES: readonly AttendanceStatus[] = ['present', 'late', 'left_early', 'excused', 'absent'];

export interface PairingCode {
  code: string;
  expires_at: string;
  /** The link by the address this browser uses (it carries the code's long form). */
  url: string;
  /** The same link by the box's IP address, for tablets that cannot resolve `.local`. */
  ip_url: string | null;
}

export interface Device {
  id: string;
  label: string;
  paired_at: string;
  revoked_at: string | null;
}

/** Seat id → person id. */
export type Assignments = Record<string, string>;

export interface MeetingSeats {
  layout: Layout;
  assignments: Assignments;
}


/** One point of the agenda (mục), in the meeting's order. */
export interface AgendaItem {
  id: string;
  title: string;
  presenter: string | null;
  duration_minutes: number | null;
  description: string | null;
  /** The presenter as one of the meeting's people (marks can be sent to them), if named. */
  presenter_id?: string | null;
  /** Added or changed after publishing: shown "đã cập nhật". */
  updated_after_publish?: boolean;
}

export interface MeetingDocument {
  id: string;
  item_id: string;
  title: string;
  /** Số, ký hiệu: "12/TTr-UBND". */
  number: string | null;
  kind: 'pdf' | 'attachment';
  /** null: every invitee; else only these people (plus the secretary and the chair). */
  restricted_to: string[] | null;
  versions: DocVersion[];
  updated_after_publish: boolean;
}

/** `GET /api/meetings/{id}` with the preparation fields. */
export interface PreparedMeeting extends Meeting {
  changed_after_publish?: ChangedDetails;
  place?: string | null;
  status?: MeetingStatus;
  published_at?: string | null;
  review_comment?: string | null;
  agenda?: AgendaItem[];
  documents?: MeetingDocument[];
  publish_warning?: PublishWarning | null;
  my_role?: MeetingRole;
  /** On the hub: the room box it was handed to; the office only reads it from then on. */
  handed_over_to?: HandedOver | null;
  /** On a room box: the central office prepared it and handed it to this room. */
  from_hub?: boolean;
}

export interface ItemFields {
  title: string;
  presenter?: string | null;
  /** null: no presenter person. */
  presenter_id?: string | null;
  duration_minutes?: number | null;
  description?: string | null;
}

export interface MeetingFields {
  title?: string;
  starts_at?: string;
  place?: string | null;
  chair_id?: string | null;
}

/** `GET /api/meetings/{id}` as a device sees it. */
export interface MyMeeting extends Meeting {
  /** Where the meeting is held ("Hội trường UBND xã"), when the secretary gave it. */
  place?: string | null;
  /** Details changed after publishing: shown "đã cập nhật". */
  changed_after_publish?: ChangedDetails;
  my_role: MeetingRole;
  my_attendance: Attendance | null;
  /** The seat id; tolerated as an object too, in case the box sends the seat itself. */
  my_seat: string | { id: string; label?: string } | null;
}

/** `POST /api/devices/pair` → 201. */
export interface Paired {
  device: { id: string; label: string; paired_at: string };
  person: Person;
  pin_set: boolean;
}
