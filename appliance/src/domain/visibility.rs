//! Who may see what: one policy for the API, the live feeds, their replay and blob downloads.
//!
//! Every question is asked against the state *now*: the caller as they are now (a revoked
//! tablet or an ended session sees nothing), the meeting as it is now (a new chair, a
//! restriction set after upload), and the document as it is now. Nothing else in the code
//! decides visibility; handlers and feeds ask here. The matches are exhaustive on purpose: a
//! new event kind does not build until someone decides who sees it.

use super::event::EventBody;
use super::records::{Document, Id, MeetingHeader, MeetingStatus};
use super::role::Role;

/// Who is looking, resolved from their cookie at the moment of the question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer<'a> {
    /// No session, an expired one, or an unknown cookie.
    Anonymous,
    /// A signed-in staff account with its roles.
    Staff(&'a [Role]),
    /// A paired tablet acting for its person.
    Device(&'a Id),
    /// A tablet whose pairing was revoked: it sees nothing but that fact.
    Revoked,
    /// A paired projector screen: what the room may see on the wall, of published meetings.
    Display,
}

/// The caller's part in one meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum MeetingRole {
    /// Staff who prepare meetings: everything, drafts included.
    Secretary,
    /// The chair: a chair's staff account (drafts included), or the tablet of the person named
    /// chair of this meeting (from submission on).
    Chair,
    /// A voting member, once the meeting is published.
    Delegate,
    /// Invited without a vote, once the meeting is published.
    Guest,
    /// The projector screen: what the room may see on the wall.
    Projector,
}

/// What `viewer` is in `meeting`, or `None` if it is none of their business.
pub fn meeting_role(viewer: Viewer<'_>, meeting: &MeetingHeader) -> Option<MeetingRole> {
    let published = meeting.status == MeetingStatus::Published;
    match viewer {
        Viewer::Anonymous | Viewer::Revoked => None,
        // A display sees what the projector account sees: published meetings only.
        Viewer::Display => published.then_some(MeetingRole::Projector),
        Viewer::Staff(roles) => {
            if roles.iter().any(|r| r.may_manage_meetings()) {
                Some(MeetingRole::Secretary)
            } else if roles.contains(&Role::Chair) {
                Some(MeetingRole::Chair)
            } else if roles.contains(&Role::Projector) && published {
                Some(MeetingRole::Projector)
            } else {
                None
            }
        }
        Viewer::Device(person) => {
            if meeting.chair_id.as_ref() == Some(person) && meeting.status != MeetingStatus::Draft {
                Some(MeetingRole::Chair)
            } else if !published {
                None
            } else if meeting.members.contains(person) {
                Some(MeetingRole::Delegate)
            } else if meeting.guests.contains(person) {
                Some(MeetingRole::Guest)
            } else {
                None
            }
        }
    }
}

/// Whether the viewer may see the meeting's draft history: staff who prepare or chair it.
pub fn sees_drafts(viewer: Viewer<'_>, role: MeetingRole) -> bool {
    matches!(viewer, Viewer::Staff(_))
        && matches!(role, MeetingRole::Secretary | MeetingRole::Chair)
}

/// The first position in the node's log this viewer's feed of the meeting may replay from:
/// staff who see drafts get the whole history, the chair's tablet the part since the meeting
/// was submitted, everyone else the part since it was published.
pub fn history_from(viewer: Viewer<'_>, role: MeetingRole, meeting: &MeetingHeader) -> u64 {
    if sees_drafts(viewer, role) {
        return 0;
    }
    let since = match role {
        MeetingRole::Chair => meeting.submitted_seq.or(meeting.published_seq),
        MeetingRole::Secretary
        | MeetingRole::Delegate
        | MeetingRole::Guest
        | MeetingRole::Projector => meeting.published_seq,
    };
    // A meeting the viewer can see has such a point; without one, show no history.
    since.unwrap_or(u64::MAX)
}

/// Whether the viewer may see a document of a meeting in which they have `role`.
pub fn sees_document(viewer: Viewer<'_>, role: MeetingRole, document: &Document) -> bool {
    match role {
        MeetingRole::Secretary | MeetingRole::Chair => true,
        MeetingRole::Delegate | MeetingRole::Guest => match viewer {
            Viewer::Device(person) => document.visible_to(person),
            Viewer::Anonymous | Viewer::Revoked | Viewer::Staff(_) | Viewer::Display => false,
        },
        MeetingRole::Projector => document.restricted_to.is_none(),
    }
}

/// Whether the viewer sees the private parts of someone's attendance (reason for absence,
/// phone number): the staff and the chair, and each person for themselves.
pub fn sees_private_attendance(viewer: Viewer<'_>, role: MeetingRole, of: &Id) -> bool {
    match role {
        MeetingRole::Secretary | MeetingRole::Chair => true,
        MeetingRole::Delegate | MeetingRole::Guest | MeetingRole::Projector => {
            matches!(viewer, Viewer::Device(p) if p == of)
        }
    }
}

/// Whether someone with `role` runs the live meeting (the console: start, pause, the agenda,
/// the speakers' queue, "follow me"): the chair, on their account or tablet, or the
/// secretary's account the chair handed the console to (`is_operator`).
pub fn runs_meeting(role: MeetingRole, is_operator: bool) -> bool {
    match role {
        MeetingRole::Chair => true,
        MeetingRole::Secretary => is_operator,
        MeetingRole::Delegate | MeetingRole::Guest | MeetingRole::Projector => false,
    }
}

/// Whether someone with `role` may ask to speak for themself: the invited, on their tablet.
pub fn may_request_floor(viewer: Viewer<'_>, role: MeetingRole) -> bool {
    matches!(viewer, Viewer::Device(_))
        && matches!(role, MeetingRole::Delegate | MeetingRole::Guest)
}

/// Whether an event can change who a caller is or what part they have in a meeting (a
/// revoked tablet, an account disabled or signed out everywhere, a new chair, a meeting
/// submitted or published). Live feeds may keep their answer to "who is watching, in what
/// role" until such an event, or a node-local change (a sign-out), comes; documents are asked
/// about afresh for every event that names one.
pub fn changes_access(body: &EventBody) -> bool {
    match body {
        EventBody::DeviceRevoked { .. }
        | EventBody::DisplayRevoked { .. }
        | EventBody::AccountPasswordChanged { .. }
        | EventBody::AccountPasswordReset { .. }
        | EventBody::AccountDisabled { .. }
        | EventBody::AccountRemoved { .. }
        | EventBody::AccountSessionsEnded { .. }
        | EventBody::MeetingDetailsSet { .. }
        | EventBody::MeetingSubmitted { .. }
        | EventBody::MeetingApproved { .. }
        | EventBody::MeetingSentBack { .. }
        | EventBody::MeetingPublished { .. }
        | EventBody::MeetingHandedOver { .. }
        | EventBody::MeetingAdopted { .. } => true,
        EventBody::NodeInitialised { .. }
        | EventBody::RoomRenamed { .. }
        | EventBody::NoticePosted { .. }
        | EventBody::NoticeCleared {}
        | EventBody::PersonAdded { .. }
        | EventBody::BodyCreated { .. }
        | EventBody::BodyMembersSet { .. }
        | EventBody::BodyRulesSet { .. }
        | EventBody::MeetingCreated { .. }
        | EventBody::PairingCodeIssued { .. }
        | EventBody::DevicePaired { .. }
        | EventBody::DisplayPaired { .. }
        | EventBody::PinSet { .. }
        | EventBody::PinReset { .. }
        | EventBody::AttendanceMarked { .. }
        | EventBody::LayoutSaved { .. }
        | EventBody::SeatsAssigned { .. }
        | EventBody::ItemAdded { .. }
        | EventBody::ItemUpdated { .. }
        | EventBody::ItemRemoved { .. }
        | EventBody::AgendaReordered { .. }
        | EventBody::DocumentAdded { .. }
        | EventBody::DocumentVersionAdded { .. }
        | EventBody::DocumentUpdated { .. }
        | EventBody::DocumentRemoved { .. }
        | EventBody::AccountCreated { .. }
        | EventBody::AccountEnabled { .. }
        | EventBody::MeetingStarted { .. }
        | EventBody::MeetingPaused { .. }
        | EventBody::MeetingResumed { .. }
        | EventBody::MeetingEnded { .. }
        | EventBody::ItemOpened { .. }
        | EventBody::SpeechRequested { .. }
        | EventBody::SpeechWithdrawn { .. }
        | EventBody::SpeechReordered { .. }
        | EventBody::SpeechTimeSet { .. }
        | EventBody::SpeechLimitsSet { .. }
        | EventBody::SpeechStarted { .. }
        | EventBody::SpeechEnded { .. }
        | EventBody::FollowSet { .. }
        | EventBody::FollowStopped { .. }
        | EventBody::ConsoleDelegated { .. }
        | EventBody::QuestionAdded { .. }
        | EventBody::QuestionUpdated { .. }
        | EventBody::QuestionRemoved { .. }
        | EventBody::VoteOpened { .. }
        | EventBody::BallotCast { .. }
        | EventBody::VoteParticipated { .. }
        | EventBody::VoteClosed { .. }
        | EventBody::AnnotationSaved { .. }
        | EventBody::ItemNoteSaved { .. }
        | EventBody::EnrolmentIssued { .. }
        | EventBody::BoxEnrolled { .. }
        | EventBody::BoxRevoked { .. }
        | EventBody::NodeEnrolled { .. }
        | EventBody::LogCheckpoint { .. }
        | EventBody::AnnotationSealed { .. }
        | EventBody::ItemNoteSealed { .. }
        | EventBody::SyncConflict { .. }
        | EventBody::UpdateOffered { .. }
        | EventBody::UpdateInstalled { .. }
        | EventBody::UpdateRolledBack { .. } => false,
    }
}

/// How an event reaches a viewer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    /// Not at all.
    Hidden,
    /// As it is.
    Whole,
    /// `attendance.marked` without someone else's reason.
    WithoutReason,
    /// Only that a document the viewer could see is now hidden from them: `{meeting_id,
    /// document_id, hidden: true}`.
    DocumentHidden,
    /// `follow.set` of a document the viewer may not see: only `{meeting_id, hidden: true}`,
    /// so their tablet stops following without learning which document it was.
    FollowHidden,
    /// `annotation.saved` of a mark the viewer saw and may no longer see (unshared or erased):
    /// only `{meeting_id, annotation_id, hidden: true}`.
    AnnotationHidden,
    /// `vote.closed` without the signed record: the question, its outcome and how it was
    /// obtained (the full record is a request away; sending it to every tablet would cost
    /// the room's Wi-Fi a megabyte per thousand ballots per tablet).
    ResultSummary,
}

/// Whether the viewer sees a mark owned by `owner` shared as `sharing` (the document aside):
/// its owner's tablets always; a mark shared with the meeting, everyone with a role; one sent
/// to the chair, the chair and the staff who prepare the meeting; one sent to the presenter,
/// the tablets of `presenter`, the person named presenter of the document's agenda item now
/// (nobody when none is named). Never anyone else: a private mark is not shown to the staff
/// either.
pub fn sees_annotation(
    viewer: Viewer<'_>,
    role: MeetingRole,
    owner: &Id,
    sharing: super::annotation::Sharing,
    presenter: Option<&Id>,
) -> bool {
    use super::annotation::Sharing;
    if matches!(viewer, Viewer::Device(p) if p == owner) {
        return true;
    }
    match sharing {
        Sharing::Private => false,
        // The people in the meeting; not the projector, which shows no one's marks.
        Sharing::Meeting => !matches!(role, MeetingRole::Projector),
        Sharing::Chair => matches!(role, MeetingRole::Chair | MeetingRole::Secretary),
        Sharing::Presenter => {
            matches!(viewer, Viewer::Device(p) if Some(p) == presenter)
                && !matches!(role, MeetingRole::Projector)
        }
    }
}

/// Whole to the person's own tablet, hidden from everyone else.
fn own(viewer: Viewer<'_>, person: &Id) -> Shown {
    match viewer {
        Viewer::Device(p) if p == person => Shown::Whole,
        _ => Shown::Hidden,
    }
}

/// Whether someone with `role` may prepare a meeting's questions: the staff who prepare the
/// meeting and the chair, or whoever runs the console (a motion raised in the meeting).
pub fn prepares_questions(viewer: Viewer<'_>, role: MeetingRole, is_operator: bool) -> bool {
    (matches!(viewer, Viewer::Staff(_)) && role == MeetingRole::Secretary)
        || runs_meeting(role, is_operator)
}

/// Whether someone with `role` may vote: a voting member, on their own paired tablet (the
/// chair votes too, on theirs).
pub fn may_vote(viewer: Viewer<'_>, role: MeetingRole, meeting: &MeetingHeader) -> bool {
    match viewer {
        Viewer::Device(p) => {
            matches!(role, MeetingRole::Delegate | MeetingRole::Chair)
                && meeting.members.contains(p)
        }
        Viewer::Anonymous | Viewer::Revoked | Viewer::Staff(_) | Viewer::Display => false,
    }
}

/// Whether an event belongs on the room's public feed (the landing page, the projector).
pub fn on_room_feed(body: &EventBody) -> bool {
    match body {
        EventBody::NodeInitialised { .. }
        | EventBody::RoomRenamed { .. }
        | EventBody::NoticePosted { .. }
        | EventBody::NoticeCleared {} => true,
        EventBody::AccountCreated { .. }
        | EventBody::AccountPasswordChanged { .. }
        | EventBody::AccountPasswordReset { .. }
        | EventBody::AccountDisabled { .. }
        | EventBody::AccountEnabled { .. }
        | EventBody::AccountRemoved { .. }
        | EventBody::AccountSessionsEnded { .. }
        | EventBody::PersonAdded { .. }
        | EventBody::BodyCreated { .. }
        | EventBody::BodyMembersSet { .. }
        | EventBody::BodyRulesSet { .. }
        | EventBody::MeetingCreated { .. }
        | EventBody::PairingCodeIssued { .. }
        | EventBody::DevicePaired { .. }
        | EventBody::DeviceRevoked { .. }
        | EventBody::PinSet { .. }
        | EventBody::PinReset { .. }
        | EventBody::AttendanceMarked { .. }
        | EventBody::LayoutSaved { .. }
        | EventBody::SeatsAssigned { .. }
        | EventBody::MeetingDetailsSet { .. }
        | EventBody::ItemAdded { .. }
        | EventBody::ItemUpdated { .. }
        | EventBody::ItemRemoved { .. }
        | EventBody::AgendaReordered { .. }
        | EventBody::DocumentAdded { .. }
        | EventBody::DocumentVersionAdded { .. }
        | EventBody::DocumentUpdated { .. }
        | EventBody::DocumentRemoved { .. }
        | EventBody::MeetingSubmitted { .. }
        | EventBody::MeetingApproved { .. }
        | EventBody::MeetingSentBack { .. }
        | EventBody::MeetingPublished { .. }
        | EventBody::MeetingStarted { .. }
        | EventBody::MeetingPaused { .. }
        | EventBody::MeetingResumed { .. }
        | EventBody::MeetingEnded { .. }
        | EventBody::ItemOpened { .. }
        | EventBody::SpeechRequested { .. }
        | EventBody::SpeechWithdrawn { .. }
        | EventBody::SpeechReordered { .. }
        | EventBody::SpeechTimeSet { .. }
        | EventBody::SpeechLimitsSet { .. }
        | EventBody::SpeechStarted { .. }
        | EventBody::SpeechEnded { .. }
        | EventBody::FollowSet { .. }
        | EventBody::FollowStopped { .. }
        | EventBody::ConsoleDelegated { .. }
        | EventBody::DisplayPaired { .. }
        | EventBody::DisplayRevoked { .. }
        | EventBody::QuestionAdded { .. }
        | EventBody::QuestionUpdated { .. }
        | EventBody::QuestionRemoved { .. }
        | EventBody::VoteOpened { .. }
        | EventBody::BallotCast { .. }
        | EventBody::VoteParticipated { .. }
        | EventBody::VoteClosed { .. }
        | EventBody::AnnotationSaved { .. }
        | EventBody::ItemNoteSaved { .. }
        | EventBody::EnrolmentIssued { .. }
        | EventBody::BoxEnrolled { .. }
        | EventBody::BoxRevoked { .. }
        | EventBody::NodeEnrolled { .. }
        | EventBody::LogCheckpoint { .. }
        | EventBody::AnnotationSealed { .. }
        | EventBody::ItemNoteSealed { .. }
        | EventBody::SyncConflict { .. }
        | EventBody::MeetingHandedOver { .. }
        | EventBody::MeetingAdopted { .. }
        | EventBody::UpdateOffered { .. }
        | EventBody::UpdateInstalled { .. }
        | EventBody::UpdateRolledBack { .. } => false,
    }
}

/// What the meeting feed of a viewer with `role` shows of one of the meeting's events, at
/// position `seq` in the log. `document_now` is the event's document as it is now (`None`
/// if it was removed, or for events about no document); `presenter_now` the presenter person
/// of that document's agenda item now, if one is named.
pub fn meeting_event(
    viewer: Viewer<'_>,
    role: MeetingRole,
    meeting: &MeetingHeader,
    seq: u64,
    body: &EventBody,
    document_now: Option<&Document>,
    presenter_now: Option<&Id>,
) -> Shown {
    if seq < history_from(viewer, role, meeting) {
        return Shown::Hidden;
    }
    let staff_view = matches!(role, MeetingRole::Secretary | MeetingRole::Chair);
    let sees_now = |d: Option<&Document>| d.is_some_and(|d| sees_document(viewer, role, d));
    // Could the viewer see the document under the restriction the event replaced?
    let saw_before = |was: &Option<Vec<Id>>| match (role, viewer) {
        (MeetingRole::Delegate | MeetingRole::Guest, Viewer::Device(p)) => {
            was.as_ref().is_none_or(|names| names.contains(p))
        }
        (MeetingRole::Projector, _) => was.is_none(),
        _ => staff_view,
    };
    match body {
        EventBody::MeetingCreated { .. }
        | EventBody::MeetingSubmitted { .. }
        | EventBody::MeetingApproved { .. }
        | EventBody::MeetingSentBack { .. }
        | EventBody::MeetingPublished { .. }
        | EventBody::MeetingDetailsSet { .. }
        | EventBody::SeatsAssigned { .. }
        | EventBody::ItemAdded { .. }
        | EventBody::ItemUpdated { .. }
        | EventBody::ItemRemoved { .. }
        | EventBody::AgendaReordered { .. } => Shown::Whole,
        // The running of the meeting happens in front of the whole room.
        EventBody::MeetingStarted { .. }
        | EventBody::MeetingPaused { .. }
        | EventBody::MeetingResumed { .. }
        | EventBody::MeetingEnded { .. }
        | EventBody::ItemOpened { .. }
        | EventBody::SpeechRequested { .. }
        | EventBody::SpeechWithdrawn { .. }
        | EventBody::SpeechReordered { .. }
        | EventBody::SpeechTimeSet { .. }
        | EventBody::SpeechLimitsSet { .. }
        | EventBody::SpeechStarted { .. }
        | EventBody::SpeechEnded { .. }
        | EventBody::FollowStopped { .. }
        | EventBody::ConsoleDelegated { .. } => Shown::Whole,
        // Questions are prepared by the staff and the chair; the room sees one when it opens
        // (`vote.opened` carries it).
        EventBody::QuestionAdded { .. }
        | EventBody::QuestionUpdated { .. }
        | EventBody::QuestionRemoved { .. } => {
            if staff_view {
                Shown::Whole
            } else {
                Shown::Hidden
            }
        }
        EventBody::VoteOpened { .. } => Shown::Whole,
        // A delegate's marks are theirs; shared ones reach whom they are shared with, if they
        // may see the document. One that stops being visible to someone who saw it arrives as
        // `{meeting_id, annotation_id, hidden: true}`.
        EventBody::AnnotationSaved {
            annotation,
            shared_before,
            ..
        } => {
            let owner = matches!(viewer, Viewer::Device(p) if *p == annotation.owner_id);
            let may = |sharing| {
                owner
                    || (sees_annotation(viewer, role, &annotation.owner_id, sharing, presenter_now)
                        && sees_now(document_now))
            };
            if owner || (!annotation.deleted && may(annotation.sharing)) {
                Shown::Whole
            } else if may(*shared_before) {
                Shown::AnnotationHidden
            } else {
                Shown::Hidden
            }
        }
        EventBody::ItemNoteSaved { note, .. } => own(viewer, &note.owner_id),
        // Feeds open a sealed event before judging it; one that could not be opened reaches
        // nobody but its owner (as nothing they can read).
        EventBody::AnnotationSealed { owner_id, .. }
        | EventBody::ItemNoteSealed { owner_id, .. } => own(viewer, owner_id),
        // The whole signed record (every ballot) to the staff and the chair; the room gets the
        // outcome and fetches the record when someone asks for it.
        EventBody::VoteClosed { .. } => {
            if staff_view {
                Shown::Whole
            } else {
                Shown::ResultSummary
            }
        }
        // How someone voted, or that they took part in a secret vote, is theirs alone until
        // the result: the chair and the projector see how many have voted, not who or how.
        EventBody::BallotCast { ballot, .. } => own(viewer, &ballot.person_id),
        EventBody::VoteParticipated { participation, .. } => own(viewer, &participation.person_id),
        EventBody::FollowSet { .. } => {
            if sees_now(document_now) {
                Shown::Whole
            } else {
                Shown::FollowHidden
            }
        }
        EventBody::AttendanceMarked {
            person_id, reason, ..
        } => {
            if reason.is_none() || sees_private_attendance(viewer, role, person_id) {
                Shown::Whole
            } else {
                Shown::WithoutReason
            }
        }
        // Those who see every document see its whole history, a removed one's too.
        EventBody::DocumentAdded { .. }
        | EventBody::DocumentVersionAdded { .. }
        | EventBody::DocumentUpdated { .. }
            if staff_view =>
        {
            Shown::Whole
        }
        EventBody::DocumentAdded { .. } | EventBody::DocumentVersionAdded { .. } => {
            if sees_now(document_now) {
                Shown::Whole
            } else {
                Shown::Hidden
            }
        }
        EventBody::DocumentUpdated {
            was_restricted_to, ..
        } => {
            if sees_now(document_now) {
                Shown::Whole
            } else if document_now.is_some() && saw_before(was_restricted_to) {
                Shown::DocumentHidden
            } else {
                Shown::Hidden
            }
        }
        // A removed document is gone for everyone who could see it when it went.
        EventBody::DocumentRemoved { restricted_to, .. } => {
            if staff_view || saw_before(restricted_to) {
                Shown::Whole
            } else {
                Shown::Hidden
            }
        }
        // The whole meeting at once, with every person's phone and every document, restricted
        // ones too: the staff who prepare the meeting and the chair see it; screens of
        // delegates learn of an adopted meeting by fetching it (their feed starts after it).
        EventBody::MeetingHandedOver { .. } | EventBody::MeetingAdopted { .. } => {
            if staff_view {
                Shown::Whole
            } else {
                Shown::Hidden
            }
        }
        // Not events of a meeting: they never reach a meeting's feed.
        EventBody::NodeInitialised { .. }
        | EventBody::RoomRenamed { .. }
        | EventBody::NoticePosted { .. }
        | EventBody::NoticeCleared {}
        | EventBody::AccountCreated { .. }
        | EventBody::AccountPasswordChanged { .. }
        | EventBody::AccountPasswordReset { .. }
        | EventBody::AccountDisabled { .. }
        | EventBody::AccountEnabled { .. }
        | EventBody::AccountRemoved { .. }
        | EventBody::AccountSessionsEnded { .. }
        | EventBody::PersonAdded { .. }
        | EventBody::BodyCreated { .. }
        | EventBody::BodyMembersSet { .. }
        | EventBody::BodyRulesSet { .. }
        | EventBody::PairingCodeIssued { .. }
        | EventBody::DevicePaired { .. }
        | EventBody::DeviceRevoked { .. }
        | EventBody::DisplayPaired { .. }
        | EventBody::DisplayRevoked { .. }
        | EventBody::PinSet { .. }
        | EventBody::PinReset { .. }
        | EventBody::LayoutSaved { .. }
        | EventBody::EnrolmentIssued { .. }
        | EventBody::BoxEnrolled { .. }
        | EventBody::BoxRevoked { .. }
        | EventBody::NodeEnrolled { .. }
        | EventBody::LogCheckpoint { .. }
        | EventBody::SyncConflict { .. }
        | EventBody::UpdateOffered { .. }
        | EventBody::UpdateInstalled { .. }
        | EventBody::UpdateRolledBack { .. } => Shown::Hidden,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::records::{Document, DocumentKind};

    fn id(n: u8) -> Id {
        Id::parse(&format!("{n:032x}")).unwrap()
    }

    fn meeting(status: MeetingStatus) -> MeetingHeader {
        let e = crate::domain::event::golden::samples()
            .into_iter()
            .find_map(|b| match b {
                EventBody::MeetingCreated { meeting } => Some(meeting),
                _ => None,
            })
            .unwrap();
        let mut h = MeetingHeader::created(&e);
        h.status = status;
        h.submitted_seq = Some(10);
        h.published_seq = (status == MeetingStatus::Published).then_some(20);
        h
    }

    fn doc(restricted_to: Option<Vec<Id>>) -> Document {
        Document {
            id: id(6),
            item_id: id(4),
            title: "Tờ trình".into(),
            number: None,
            kind: DocumentKind::Pdf,
            restricted_to,
            versions: vec![],
        }
    }

    #[test]
    fn the_projector_sees_published_meetings_and_only_what_the_room_may_see() {
        let roles = [Role::Projector];
        let projector = Viewer::Staff(&roles);
        assert_eq!(
            meeting_role(projector, &meeting(MeetingStatus::Approved)),
            None
        );
        let m = meeting(MeetingStatus::Published);
        let role = meeting_role(projector, &m).unwrap();
        assert_eq!(role, MeetingRole::Projector);
        assert_eq!(history_from(projector, role, &m), 20);
        assert!(sees_document(projector, role, &doc(None)));
        assert!(!sees_document(projector, role, &doc(Some(vec![id(1)]))));
        assert!(!sees_private_attendance(projector, role, &id(1)));
    }

    #[test]
    fn a_paired_display_sees_what_the_projector_sees() {
        let display = Viewer::Display;
        assert_eq!(
            meeting_role(display, &meeting(MeetingStatus::Approved)),
            None
        );
        assert_eq!(meeting_role(display, &meeting(MeetingStatus::Draft)), None);
        let m = meeting(MeetingStatus::Published);
        let role = meeting_role(display, &m).unwrap();
        assert_eq!(role, MeetingRole::Projector);
        assert_eq!(history_from(display, role, &m), 20);
        assert!(sees_document(display, role, &doc(None)));
        assert!(!sees_document(display, role, &doc(Some(vec![id(1)]))));
        assert!(!sees_private_attendance(display, role, &id(1)));
        assert!(!may_request_floor(display, role));
        assert!(!runs_meeting(role, true));
        let paired = EventBody::DisplayPaired {
            display: crate::domain::event::DisplayEntry {
                id: id(14),
                label: "Máy chiếu".into(),
                paired_at: time::OffsetDateTime::UNIX_EPOCH,
            },
        };
        assert!(!on_room_feed(&paired));
        assert_eq!(
            meeting_event(display, role, &m, 30, &paired, None, None),
            Shown::Hidden
        );
    }

    #[test]
    fn a_chair_tablet_sees_from_submission_and_others_from_publication() {
        let m = meeting(MeetingStatus::Published);
        // id(1) chairs the sample meeting; id(9) is a member, id(10) a guest.
        let chair = Viewer::Device(&m.chair_id.clone().unwrap());
        let chair_role = meeting_role(chair, &m).unwrap();
        assert_eq!(chair_role, MeetingRole::Chair);
        assert_eq!(history_from(chair, chair_role, &m), 10);
        let member = id(9);
        let role = meeting_role(Viewer::Device(&member), &m).unwrap();
        assert_eq!(role, MeetingRole::Delegate);
        assert_eq!(history_from(Viewer::Device(&member), role, &m), 20);
        let guest = id(10);
        assert_eq!(
            meeting_role(Viewer::Device(&guest), &m),
            Some(MeetingRole::Guest)
        );
        // Drafts: only staff who prepare or chair.
        let secretary = [Role::Secretary];
        assert_eq!(
            history_from(Viewer::Staff(&secretary), MeetingRole::Secretary, &m),
            0
        );
        assert_eq!(meeting_role(Viewer::Revoked, &m), None);
        assert_eq!(meeting_role(Viewer::Anonymous, &m), None);
        let it = [Role::ItAdmin];
        assert_eq!(meeting_role(Viewer::Staff(&it), &m), None);
    }

    #[test]
    fn a_mark_sent_to_the_presenter_reaches_the_presenter_person_only() {
        use crate::domain::annotation::Sharing;
        let (owner, presenter, other) = (id(9), id(11), id(12));
        let sees = |viewer, role, p: Option<&Id>| {
            sees_annotation(viewer, role, &owner, Sharing::Presenter, p)
        };
        let d = MeetingRole::Delegate;
        assert!(sees(Viewer::Device(&owner), d, None), "its owner, always");
        assert!(sees(Viewer::Device(&presenter), d, Some(&presenter)));
        assert!(!sees(Viewer::Device(&other), d, Some(&presenter)));
        assert!(
            !sees(Viewer::Device(&presenter), d, None),
            "no presenter named"
        );
        let secretary = [Role::Secretary];
        assert!(!sees(
            Viewer::Staff(&secretary),
            MeetingRole::Secretary,
            Some(&presenter)
        ));
        assert!(!sees(
            Viewer::Device(&other),
            MeetingRole::Chair,
            Some(&presenter)
        ));
    }
}
