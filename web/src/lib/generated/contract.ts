// Generated from the Rust types by appliance/src/contract.rs: do not edit.
// `PHONGHOP_BLESS=1 cargo test --lib contract` writes it anew.

export type Id = string;

export type RoomName = string;

export type NoticeText = string;

export type Username = string;

export type Role = "it_admin" | "secretary" | "chair" | "delegate" | "guest" | "projector";

export type PersonName = string;

export type Position = string;

export type Unit = string;

export type Phone = string;

export type Comparison = "at_least" | "more_than";

export type Threshold = { numerator: number, denominator: number, comparison: Comparison, };

export type Quorum = { 
/**
 * Members with a vote (guests never count).
 */
members: number, 
/**
 * Members present now.
 */
present: number, 
/**
 * Members needed for the meeting to proceed.
 */
required: number, reached: boolean, };

export type BodyKind = "ubnd" | "hdnd" | "party" | "other";

export type MeetingStatus = "draft" | "submitted" | "approved" | "published";

export type DocumentKind = "pdf" | "attachment";

export type AttendanceStatus = "invited" | "excused" | "present" | "late" | "left_early" | "absent";

export type LayoutShape = "rows" | "u" | "free";

export type DeviceKey = string;

export type MeetingRole = "secretary" | "chair" | "delegate" | "guest" | "projector";

export type SpeechKind = "opinion" | "question" | "reply" | "procedural";

export type SpeechLimits = { opinion: number, question: number, reply: number, procedural: number, };

export type Phase = "not_started" | "running" | "paused" | "ended";

export type PersonEntry = { id: Id, name: PersonName, position: Position | null, unit: Unit | null, phone: Phone | null, };

export type BodyEntry = { id: Id, name: string, kind: BodyKind, quorum: Threshold, pass: Threshold, members: Array<Id>, publish_lead_days: number, };

export type MeetingEntry = { id: Id, body_id: Id, title: string, starts_at: string, chair_id: Id | null, members: Array<Id>, guests: Array<Id>, place: string, status: MeetingStatus, published_at: string | null, review_comment: string | null, agenda: Array<ItemEntry>, documents: Array<DocumentEntry>, };

export type ItemEntry = { id: Id, title: string, presenter: string, duration_minutes: number | null, description: string, 
/**
 * The person who presents the item, when the secretary named one of the meeting's
 * members or guests (marks can be sent to them). Absent in logs written before it existed,
 * and left out when unset so those items keep their exact bytes.
 */
presenter_id?: Id, };

export type DocumentEntry = { id: Id, item_id: Id, title: string, number: string | null, kind: DocumentKind, restricted_to: Array<Id> | null, versions: Array<VersionEntry>, };

export type VersionEntry = { n: number, sha256: string, size: number, file_name: string, content_type: string, uploaded_at: string, };

export type DeviceEntry = { id: Id, person_id: Id, label: string, key: DeviceKey, paired_at: string, revoked_at: string | null, };

export type DisplayEntry = { id: Id, label: string, paired_at: string, };

export type LayoutEntry = { shape: LayoutShape, seats: Array<SeatEntry>, };

export type SeatEntry = { id: string, label: string, x: number, y: number, };

export type SpeechRequestEntry = { 
/**
 * Chosen by the tablet, so that a retried request is the same request.
 */
id: Id, person_id: Id, item_id: Id, kind: SpeechKind, 
/**
 * For a reply (giải trình): the question it answers.
 */
replies_to: Id | null, 
/**
 * The waiting request it goes in front of; `None`: last.
 */
before: Id | null, };

export type HandoverSnapshot = { 
/**
 * The meeting with its state, times, agenda (with presenters) and documents (every
 * version: blob SHA-256, size, file name; who may see each).
 */
meeting: MeetingEntry, 
/**
 * The body that meets, with its members and rules.
 */
body: BodyEntry, 
/**
 * Every person the meeting names: the body's members, the meeting's members, guests and
 * chair, presenters, and the people documents are restricted to.
 */
people: Array<PersonEntry>, 
/**
 * The questions prepared for voting (none opened), in their order.
 */
questions: Array<QuestionEntry>, };

export type EventRef = { origin: string, seq: number, };

export type HandedOver = { node: string, 
/**
 * The box's room, as enrolled.
 */
room: string, at: string, 
/**
 * Where in the hub's log.
 */
seq: number, };

export type Choice = "approve" | "disapprove" | "abstain";

export type Base = "all_members" | "present" | "cast";

export type TieRule = "chair_decides" | "threshold_only";

export type Counts = { approve: number, disapprove: number, abstain: number, };

export type Electorate = { 
/**
 * Members invited (with a vote).
 */
members: number, 
/**
 * Members present when the vote opened.
 */
present: number, };

export type Decision = { counts: Counts, base: Base, 
/**
 * The size of the base.
 */
base_size: number, threshold: Threshold, 
/**
 * Approvals needed.
 */
required: number, 
/**
 * Members who did not vote (of all members).
 */
not_voted: number, passed: boolean, 
/**
 * Approvals and disapprovals were equal and the chair's side decided.
 */
tie_decided_by_chair: boolean, };

export type Secrecy = "named" | "secret";

export type QuestionKind = "motion" | "election";

export type Candidate = { id: Id, name: string, };

export type Marked = { "choice": Choice } | { "candidates": Array<Id> };

export type QuestionEntry = { id: Id, 
/**
 * The agenda item it belongs to.
 */
item_id: Id, title: string, kind: QuestionKind, 
/**
 * For an election: who may be chosen.
 */
candidates: Array<Candidate>, 
/**
 * For an election: how many may be chosen (the seats). 1 for a motion.
 */
max_choices: number, secrecy: Secrecy, base: Base, threshold: Threshold, tie: TieRule, 
/**
 * Whether a ballot may be replaced before close (never for a secret vote).
 */
changeable: boolean, 
/**
 * Closes by itself this many seconds after opening.
 */
countdown_seconds: number | null, };

export type CandidateTally = { id: Id, name: string, votes: number, elected: boolean, };

export type ElectionOutcome = { 
/**
 * Ballots cast, blank ones included.
 */
ballots: number, 
/**
 * Ballots that chose nobody.
 */
blank: number, base: Base, base_size: number, threshold: Threshold, 
/**
 * Votes a candidate needs.
 */
required: number, seats: number, candidates: Array<CandidateTally>, 
/**
 * Candidates who reached the threshold tied for the last seat: none of the tied is
 * elected and another round is needed.
 */
tie_at_last_seat: boolean, };

export type Outcome = { "type": "motion" } & Decision | { "type": "election" } & ElectionOutcome;

export type SignedBallot = { 
/**
 * Chosen by the tablet; a retry carries the same.
 */
id: Id, person_id: Id, device_id: Id, mark: Marked, 
/**
 * ECDSA P-256 / SHA-256, IEEE P1363, base64url, over [`ballot_payload`].
 */
signature: string, };

export type Participation = { person_id: Id, device_id: Id, 
/**
 * Over [`participation_payload`].
 */
signature: string, };

export type ReceiptMark = { receipt: string, mark: Marked, };

export type VoterKey = { person_id: Id, name: string, device_id: Id, 
/**
 * The device's P-256 public key as registered at pairing.
 */
device_key: DeviceKey, };

export type Method = { "type": "electronic" } | { "type": "manual", reason: string, entered_by: string, set_aside: number, };

export type ResultRecord = { format: string, node: string, meeting_id: Id, meeting_title: string, body_name: string, 
/**
 * The meeting's chair, whose own ballot decides a tie under the UBND rule.
 */
chair_id: Id | null, item_title: string, question: QuestionEntry, 
/**
 * The server nonce of the opening ("" for a hand count of a question never opened).
 */
nonce: string, opened_at: string | null, closed_at: string, electorate: Electorate, method: Method, outcome: Outcome, 
/**
 * Everyone who voted (named) or took part (secret), with their device's key.
 */
voters: Array<VoterKey>, 
/**
 * A named vote: every ballot, in the order of `voters`.
 */
ballots: Array<SignedBallot>, 
/**
 * A secret vote: every participation record, in the order of `voters`.
 */
participations: Array<Participation>, 
/**
 * A secret vote: every choice with its receipt, sorted by receipt.
 */
receipts: Array<ReceiptMark>, };

export type SignedResult = { record: ResultRecord, 
/**
 * ECDSA P-256 / SHA-256, IEEE P1363, base64url, by the node's record-signing key over
 * the RFC 8785 canonical JSON of `record`.
 */
signature: string, 
/**
 * The node's record-signing certificate (PEM), issued by the box's root.
 */
certificate: string, };

export type QuestionStatus = "draft" | "open" | "closed";

export type Question = { question: QuestionEntry, 
/**
 * Its place in the log when it was added: questions list in that order.
 */
ord: number, status: QuestionStatus, nonce: string | null, electorate: Electorate | null, opened_at: string | null, closes_at: string | null, 
/**
 * Ballots (named) or participations (secret) so far.
 */
cast: number, closed_at: string | null, outcome: Outcome | null, 
/**
 * Whether the result is a hand count.
 */
manual: boolean, };

export type Cast = { "type": "named", ballot: SignedBallot, 
/**
 * The ids of this person's earlier ballots that this one replaced (a changeable
 * vote): a late retry of one of them changes nothing.
 */
replaced: Array<Id>, } | { "type": "secret", participation: Participation, };

export type AnnotationKind = "highlight" | "underline" | "ink" | "note" | "bookmark";

export type Sharing = "private" | "meeting" | "chair" | "presenter";

export type AnnotationEntry = { 
/**
 * Made on the tablet, so a retried save or delete is the same mark.
 */
id: Id, owner_id: Id, document_id: Id, 
/**
 * The SHA-256 of the document version the mark was made on.
 */
version_sha256: string, page: number, kind: AnnotationKind, color: string, 
/**
 * Pen width in hundredths of a point (ink only).
 */
width: number, 
/**
 * Highlight and underline: the text's quads as rectangles; note: one point-sized box.
 */
rects: Array<[number, number, number, number]>, 
/**
 * Ink: the strokes, each a list of points.
 */
strokes: Array<Array<[number, number]>>, 
/**
 * Note: its text; highlight: the text it covers (for the list of notes), optional.
 */
text: string, sharing: Sharing, 
/**
 * The tablet's revision of this mark (1 for a new one).
 */
rev: number, 
/**
 * The device that saved this revision (the tie-break between equal revisions).
 */
device_id: Id, 
/**
 * A tombstone: the mark was erased.
 */
deleted: boolean, };

export type ItemNoteEntry = { item_id: Id, owner_id: Id, text: string, rev: number, device_id: Id, };

export type EventBody = { "kind": "node.initialised", "body": { room_name: RoomName, role: string, } } | { "kind": "room.renamed", "body": { name: RoomName, } } | { "kind": "notice.posted", "body": { text: NoticeText, } } | { "kind": "notice.cleared", "body": Record<symbol, never> } | { "kind": "account.created", "body": { username: Username, display_name: string, roles: Array<Role>, } } | { "kind": "person.added", "body": { person: PersonEntry, } } | { "kind": "body.created", "body": { body: BodyEntry, } } | { "kind": "body.members_set", "body": { body_id: Id, members: Array<Id>, } } | { "kind": "body.rules_set", "body": { body_id: Id, name: string, quorum: Threshold, pass: Threshold, publish_lead_days: number, } } | { "kind": "meeting.created", "body": { meeting: MeetingEntry, } } | { "kind": "pairing.code_issued", "body": { person_id: Id, expires_at: string, } } | { "kind": "device.paired", "body": { device: DeviceEntry, } } | { "kind": "device.revoked", "body": { device_id: Id, } } | { "kind": "pin.set", "body": { person_id: Id, } } | { "kind": "pin.reset", "body": { person_id: Id, } } | { "kind": "attendance.marked", "body": { meeting_id: Id, person_id: Id, status: AttendanceStatus, at: string | null, reason: string | null, } } | { "kind": "seating.layout_saved", "body": { layout: LayoutEntry, } } | { "kind": "seating.assigned", "body": { meeting_id: Id, assignments: { [key in string]: Id }, } } | { "kind": "meeting.details_set", "body": { meeting_id: Id, title: string, starts_at: string, place: string, chair_id: Id | null, } } | { "kind": "agenda.item_added", "body": { meeting_id: Id, item: ItemEntry, } } | { "kind": "agenda.item_updated", "body": { meeting_id: Id, item: ItemEntry, } } | { "kind": "agenda.item_removed", "body": { meeting_id: Id, item_id: Id, } } | { "kind": "agenda.reordered", "body": { meeting_id: Id, order: Array<Id>, } } | { "kind": "document.added", "body": { meeting_id: Id, document: DocumentEntry, } } | { "kind": "document.version_added", "body": { meeting_id: Id, document_id: Id, version: VersionEntry, restricted_to: Array<Id> | null, } } | { "kind": "document.updated", "body": { meeting_id: Id, document_id: Id, title: string, number: string | null, restricted_to: Array<Id> | null, 
/**
 * Who could see it before, so that people it is now hidden from hear of the change.
 */
was_restricted_to: Array<Id> | null, } } | { "kind": "document.removed", "body": { meeting_id: Id, document_id: Id, restricted_to: Array<Id> | null, } } | { "kind": "meeting.submitted", "body": { meeting_id: Id, } } | { "kind": "meeting.approved", "body": { meeting_id: Id, } } | { "kind": "meeting.sent_back", "body": { meeting_id: Id, comment: string, } } | { "kind": "meeting.published", "body": { meeting_id: Id, } } | { "kind": "account.password_changed", "body": { username: Username, } } | { "kind": "account.password_reset", "body": { username: Username, } } | { "kind": "account.disabled", "body": { username: Username, } } | { "kind": "account.enabled", "body": { username: Username, } } | { "kind": "account.removed", "body": { username: Username, } } | { "kind": "account.sessions_ended", "body": { username: Username, } } | { "kind": "meeting.started", "body": { meeting_id: Id, } } | { "kind": "meeting.paused", "body": { meeting_id: Id, reason: string, } } | { "kind": "meeting.resumed", "body": { meeting_id: Id, } } | { "kind": "meeting.ended", "body": { meeting_id: Id, } } | { "kind": "agenda.item_opened", "body": { meeting_id: Id, item_id: Id, } } | { "kind": "speech.requested", "body": { meeting_id: Id, request: SpeechRequestEntry, } } | { "kind": "speech.withdrawn", "body": { meeting_id: Id, request_id: Id, } } | { "kind": "speech.reordered", "body": { meeting_id: Id, order: Array<Id>, } } | { "kind": "speech.time_set", "body": { meeting_id: Id, request_id: Id, seconds: number, } } | { "kind": "speech.limits_set", "body": { meeting_id: Id, limits: SpeechLimits, } } | { "kind": "speech.started", "body": { meeting_id: Id, request_id: Id, seconds: number, } } | { "kind": "speech.ended", "body": { meeting_id: Id, request_id: Id, } } | { "kind": "follow.set", "body": { meeting_id: Id, document_id: Id, page: number, } } | { "kind": "follow.stopped", "body": { meeting_id: Id, } } | { "kind": "console.delegated", "body": { meeting_id: Id, username: Username | null, } } | { "kind": "display.paired", "body": { display: DisplayEntry, } } | { "kind": "display.revoked", "body": { display_id: Id, } } | { "kind": "question.added", "body": { meeting_id: Id, question: QuestionEntry, } } | { "kind": "question.updated", "body": { meeting_id: Id, question: QuestionEntry, } } | { "kind": "question.removed", "body": { meeting_id: Id, question_id: Id, } } | { "kind": "vote.opened", "body": { meeting_id: Id, question_id: Id, 
/**
 * The question as it was opened: what every ballot answers.
 */
question: QuestionEntry, nonce: string, electorate: Electorate, closes_at: string | null, } } | { "kind": "vote.ballot_cast", "body": { meeting_id: Id, question_id: Id, ballot: SignedBallot, } } | { "kind": "vote.participated", "body": { meeting_id: Id, question_id: Id, participation: Participation, } } | { "kind": "vote.closed", "body": { meeting_id: Id, question_id: Id, result: SignedResult, } } | { "kind": "annotation.saved", "body": { meeting_id: Id, annotation: AnnotationEntry, shared_before: Sharing, } } | { "kind": "item_note.saved", "body": { meeting_id: Id, note: ItemNoteEntry, } } | { "kind": "enrolment.issued", "body": { token_id: Id, room: string, expires_at: string, } } | { "kind": "box.enrolled", "body": { token_id: Id, node_id: string, room: string, cert_serial: string, cert_not_after: string, } } | { "kind": "box.revoked", "body": { node_id: string, reason: string, } } | { "kind": "node.enrolled", "body": { hub_node_id: string, hub_url: string, 
/**
 * SHA-256 of the hub's root certificate, as the token pinned it.
 */
hub_root_sha256: string, } } | { "kind": "log.checkpoint", "body": { seq: number, hash: string, 
/**
 * ECDSA P-256 over the canonical JSON of [`super::hub::CheckpointStatement`].
 */
signature: string, 
/**
 * The record-signing certificate (PEM) whose key signed.
 */
certificate_pem: string, } } | { "kind": "annotation.sealed", "body": { meeting_id: Id, owner_id: Id, document_id: Id, annotation_id: Id, shared_before: Sharing, sealed: string, } } | { "kind": "item_note.sealed", "body": { meeting_id: Id, owner_id: Id, sealed: string, } } | { "kind": "sync.conflict", "body": { origin: string, seq: number, 
/**
 * `fork`: the sender's event at `seq` differs from the one held.
 */
reason: string, ours: string | null, theirs: string, } } | { "kind": "meeting.handed_over", "body": { meeting_id: Id, 
/**
 * The room box it was handed to.
 */
node_id: string, 
/**
 * That box's room, as enrolled.
 */
room: string, snapshot: HandoverSnapshot, } } | { "kind": "meeting.adopted", "body": { from: EventRef, snapshot: HandoverSnapshot, } } | { "kind": "update.offered", "body": { version: string, target: string, sha256: string, size: number, signature: string, nodes?: string[] | null, } } | { "kind": "update.installed", "body": { version: string, previous: string, } } | { "kind": "update.rolled_back", "body": { version: string, reason: string, running: string, } };

export type Person = { id: Id, name: PersonName, position: Position | null, unit: Unit | null, phone: Phone | null, };

export type Body = { id: Id, name: string, kind: BodyKind, 
/**
 * How many members must be present for the meeting to proceed.
 */
quorum: Threshold, 
/**
 * How many members must approve for a decision to pass (used by voting).
 */
pass: Threshold, members: Array<Id>, 
/**
 * Working days before a meeting its documents should reach members.
 */
publish_lead_days: number, };

export type MeetingHeader = { id: Id, body_id: Id, title: string, starts_at: string, chair_id: Id | null, 
/**
 * Invited with a vote; counted for quorum.
 */
members: Array<Id>, 
/**
 * Invited without a vote (khách mời).
 */
guests: Array<Id>, place: string, status: MeetingStatus, published_at: string | null, 
/**
 * The chair's comment when sending the meeting back for changes.
 */
review_comment: string | null, 
/**
 * Where in the node's log the meeting was published: delegates' feeds replay nothing
 * from before it (the draft history is the staff's).
 */
published_seq: number | null, 
/**
 * Where it was last submitted for review: the chair's tablet sees from there on.
 */
submitted_seq: number | null, 
/**
 * The next ordinal for an agenda item or document, so that a new one goes last without
 * reading the others.
 */
next_ord: number, 
/**
 * Which details changed after publishing, for the "đã cập nhật" marks.
 */
changed_after_publish: ChangedDetails, 
/**
 * On the hub: the room box the meeting was handed to. The hub changes it no more.
 */
handed_over_to: HandedOver | null, 
/**
 * On a room box: the hub's `meeting.handed_over` it was adopted from.
 */
adopted_from: EventRef | null, };

export type Item = { id: Id, title: string, presenter: string, duration_minutes: number | null, description: string, 
/**
 * The presenter as a person of the meeting (marks can be sent to them), if named.
 */
presenter_id?: Id, 
/**
 * Added or changed after the meeting was published: delegates see it marked
 * "đã cập nhật". Set by the read model, never by an event.
 */
updated_after_publish: boolean, };

export type Document = { id: Id, item_id: Id, title: string, 
/**
 * Số, ký hiệu, e.g. "12/TTr-UBND".
 */
number: string | null, kind: DocumentKind, 
/**
 * `None`: every invitee; otherwise only these people (and the secretary and chair).
 */
restricted_to: Array<Id> | null, versions: Array<Version>, };

export type Version = { n: number, sha256: string, size: number, file_name: string, content_type: string, uploaded_at: string, };

export type AttendanceRecord = { status: AttendanceStatus, at: string | null, reason: string | null, };

export type Layout = { shape: LayoutShape, seats: Array<Seat>, };

export type Seat = { id: string, label: string, 
/**
 * Room units, 0–1000, from the top left; the chair's table is at the top.
 */
x: number, y: number, };

export type ChangedDetails = { title: boolean, starts_at: boolean, place: boolean, };

export type InviteKind = "member" | "guest";

export type PersonView = { id: Id, name: string, 
/**
 * The given name, which Vietnamese lists sort by.
 */
given_name: string, position: string | null, unit: string | null, 
/**
 * `null` for people whose phone the caller may not see.
 */
phone: string | null, };

export type VersionView = { n: number, sha256: string, size: number, file_name: string, content_type: string, uploaded_at: string, 
/**
 * Where to download it (Range, ETag).
 */
url: string, };

export type DocumentView = { id: Id, item_id: Id, title: string, number: string | null, kind: DocumentKind, restricted_to: Array<Id> | null, 
/**
 * Added or changed since the meeting was published ("đã cập nhật"); absent where the
 * meeting is not known (an upload's answer).
 */
updated_after_publish?: boolean, versions: Array<VersionView>, };

export type PublishWarning = { 
/**
 * Working days between publishing and the meeting.
 */
days_before: number, 
/**
 * Working days the body's rule asks for.
 */
rule_days: number, };

export type AttendanceRow = { person: PersonView, kind: InviteKind, status: AttendanceStatus, at: string | null, 
/**
 * `null` for someone else's reason, unless the caller is staff or the chair.
 */
reason: string | null, seat: string | null, };

export type AttendanceSheet = { quorum: Quorum, rows: Array<AttendanceRow>, };

export type MeetingView = { id: Id, body_id: Id, title: string, starts_at: string, place: string, chair_id: Id | null, members: Array<Id>, guests: Array<Id>, status: MeetingStatus, published_at: string | null, review_comment: string | null, agenda: Array<Item>, documents: Array<DocumentView>, publish_warning: PublishWarning | null, 
/**
 * Which details changed after publishing ("đã cập nhật").
 */
changed_after_publish: ChangedDetails, my_role: MeetingRole, 
/**
 * Where the live meeting stands (the projector picks the running or paused one).
 */
live_phase: Phase, 
/**
 * On the hub: the room box it was handed to; the hub changes it no more.
 */
handed_over_to: HandedOver | null, 
/**
 * On a room box: the central office prepared it and handed it to this room.
 */
from_hub: boolean, 
/**
 * The caller's own row, on `GET /api/meetings/{id}` only.
 */
my_attendance?: AttendanceRow | null, 
/**
 * The caller's own seat, on `GET /api/meetings/{id}` only.
 */
my_seat?: string | null, };

export type MeetingList = { meetings: Array<MeetingView>, };

export type Request = { id: Id, person_id: Id, item_id: Id, kind: SpeechKind, 
/**
 * For a reply: the question it answers.
 */
replies_to: Id | null, requested_at: string, 
/**
 * A time the chair set for this person; otherwise the kind's applies.
 */
seconds_set: number | null, };

export type Speaking = { started_at: string, 
/**
 * The time given, in seconds; the countdown turns red past it.
 */
seconds: number, id: Id, person_id: Id, item_id: Id, kind: SpeechKind, 
/**
 * For a reply: the question it answers.
 */
replies_to: Id | null, requested_at: string, 
/**
 * A time the chair set for this person; otherwise the kind's applies.
 */
seconds_set: number | null, };

export type Speech = { id: Id, person_id: Id, item_id: Id, kind: SpeechKind, replies_to: Id | null, started_at: string, ended_at: string, 
/**
 * The time that was given.
 */
seconds: number, };

export type Pause = { reason: string, since: string, };

export type CurrentItem = { item_id: Id, 
/**
 * When its clock last started; `None` while the meeting is paused.
 */
since: string | null, 
/**
 * Time already spent on it before `since`, in milliseconds.
 */
spent_ms: number, };

export type FollowView = { document_id: Id | null, page: number | null, since: string | null, 
/**
 * The chair shows a document this caller may not see: stop following, say so.
 */
hidden: boolean, };

export type LiveView = { meeting_id: Id, 
/**
 * The box's clock when this was read (milliseconds): screens time countdowns by it, not
 * by their own clock.
 */
now: string, 
/**
 * The log's head this view reflects: open the feed with `?since=` it.
 */
seq: number, role: MeetingRole, 
/**
 * Whether the caller may run the console.
 */
can_run: boolean, phase: Phase, started_at: string | null, ended_at: string | null, paused: Pause | null, item: CurrentItem | null, 
/**
 * Milliseconds spent on items that are not current.
 */
item_spent_ms: Record<string, number>, 
/**
 * Waiting requests of every item, in the order they will be heard.
 */
queue: Array<Request>, speaking: Speaking | null, 
/**
 * Speeches heard, in order.
 */
history: Array<Speech>, limits: SpeechLimits, follow: FollowView | null, 
/**
 * The secretary's account the chair handed the console to.
 */
operator: string | null, };

export type SpeakerLine = { person_id: Id, name: string, speeches: number, 
/**
 * Seconds actually spoken.
 */
seconds: number, over_time: number, by_kind: Partial<Record<SpeechKind, number>>, };

export type SpeakingReport = { speakers: Array<SpeakerLine>, speeches: Array<Speech>, };

export type DisplayView = { id: Id, label: string, paired_at: string, revoked_at: string | null, };

export type DisplayList = { displays: Array<DisplayView>, };

export type DisplayCode = { code: string, link: string, 
/**
 * The same link by the box's IP address, for a TV that cannot resolve `.local` names.
 */
ip_link: string | null, expires_at: string, };

export type MyVote = { "type": "named", ballot_id: Id, mark: Marked, } | { "type": "secret" };

export type QuestionSeen = { question: Question, 
/**
 * The caller's own vote, for a member's tablet.
 */
mine: MyVote | null, 
/**
 * Whether the caller may vote on it (a member's tablet, checked in).
 */
may_vote: boolean, };

export type QuestionsSeen = { questions: Array<QuestionSeen>, 
/**
 * Whether the caller may prepare questions (and record a hand count).
 */
can_manage: boolean, 
/**
 * Whether the caller may open and close votes.
 */
can_run: boolean, 
/**
 * The box's clock, for countdowns on tablets whose clock is off.
 */
now: string, };

export type BallotAccepted = { question_id: Id, 
/**
 * Ballots (or participations) counted so far.
 */
cast: number, ballot_id: Id | null, receipt: string | null, };

export type VoteProgress = { meeting_id: Id, question_id: Id, 
/**
 * Ballots (or secret-vote participations) counted so far.
 */
cast: number, };

export type ResultSummary = { meeting_id: Id, question_id: Id, question: QuestionEntry, outcome: Outcome, method: Method, electorate: Electorate, closed_at: string, 
/**
 * Whether the full record names each voter's choice (a named vote).
 */
named: boolean, };

export type AnnotationsSeen = { annotations: Array<AnnotationEntry>, 
/**
 * The caller's own notes on the meeting's items.
 */
notes: Array<ItemNoteEntry>, 
/**
 * The names of the people whose shared marks are in `annotations`, so a tablet can say
 * whose a mark is.
 */
names: { [key in Id]: string }, };

export type AnnotationSaved = { annotation: AnnotationEntry, applied: boolean, lost: boolean, };

export type NoteSaved = { note: ItemNoteEntry, applied: boolean, lost: boolean, };

/** A document the caller could see and no longer may: its tablet drops it. */
export type DocumentHidden = { meeting_id: Id, document_id: Id, hidden: true };

/** "Follow me" on a document the caller may not see: stop following. */
export type FollowHidden = { meeting_id: Id, hidden: true };

/** One event on a live feed: its place in the node's log, when, and what. A `document.updated` may come as `DocumentHidden`; an `attendance.marked` of someone else comes with `reason: null`. */
export type FeedEvent = { seq: number, at: string } & (
  | EventBody
  | { kind: "document.updated", body: DocumentHidden }
  | { kind: "follow.set", body: FollowHidden }
  | { kind: "vote.closed", body: ResultSummary }
  | { kind: "annotation.saved", body: { meeting_id: Id, annotation_id: Id, hidden: true } }
);

/** The coalesced "N have voted" counter (at most 4 a second; not a logged event, so it has no seq). */
export type ProgressMessage = { kind: "vote.progress", body: VoteProgress };
