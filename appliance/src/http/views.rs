//! What the API returns, as types: the handlers build these instead of loose JSON, and the web
//! app's TypeScript types are generated from them (`appliance/src/contract.rs`), so the two
//! cannot drift apart unnoticed. Times are RFC 3339 in UTC.

use crate::domain::live::{
    CurrentItem, Pause, Phase, Request, Speaking, Speech, SpeechKind, SpeechLimits,
};
use crate::domain::records::{
    AttendanceStatus, ChangedDetails, Document, DocumentKind, Id, Item, Meeting, MeetingStatus,
    Person, Version,
};
use crate::domain::visibility::{self, MeetingRole};
use crate::domain::{quorum::Quorum, visibility::Viewer};
use crate::service::attendance::{InviteKind, Row, Sheet};
use serde::Serialize;
use ts_rs::TS;

/// A person as lists and sheets show them.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PersonView {
    pub id: Id,
    pub name: String,
    /// The given name, which Vietnamese lists sort by.
    pub given_name: String,
    pub position: Option<String>,
    pub unit: Option<String>,
    /// `null` for people whose phone the caller may not see.
    pub phone: Option<String>,
}

impl From<&Person> for PersonView {
    fn from(p: &Person) -> Self {
        PersonView {
            id: p.id.clone(),
            name: p.name.as_str().to_owned(),
            given_name: p.name.given().to_owned(),
            position: p.position.as_ref().map(|v| v.as_str().to_owned()),
            unit: p.unit.as_ref().map(|v| v.as_str().to_owned()),
            phone: p.phone.as_ref().map(|v| v.as_str().to_owned()),
        }
    }
}

/// One uploaded file of a document.
#[derive(Debug, Clone, Serialize, TS)]
pub struct VersionView {
    pub n: u32,
    pub sha256: String,
    #[ts(type = "number")]
    pub size: u64,
    pub file_name: String,
    pub content_type: String,
    pub uploaded_at: String,
    /// Where to download it (Range, ETag).
    pub url: String,
}

impl From<&Version> for VersionView {
    fn from(v: &Version) -> Self {
        VersionView {
            n: v.n,
            sha256: v.sha256.clone(),
            size: v.size,
            file_name: v.file_name.clone(),
            content_type: v.content_type.clone(),
            uploaded_at: super::utc(v.uploaded_at),
            url: format!("/api/blobs/{}", v.sha256),
        }
    }
}

/// A document with every version.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DocumentView {
    pub id: Id,
    pub item_id: Id,
    pub title: String,
    pub number: Option<String>,
    pub kind: DocumentKind,
    pub restricted_to: Option<Vec<Id>>,
    /// Added or changed since the meeting was published ("đã cập nhật"); absent where the
    /// meeting is not known (an upload's answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub updated_after_publish: Option<bool>,
    pub versions: Vec<VersionView>,
}

impl DocumentView {
    pub fn of(d: &Document, meeting: Option<&Meeting>) -> Self {
        DocumentView {
            id: d.id.clone(),
            item_id: d.item_id.clone(),
            title: d.title.clone(),
            number: d.number.clone(),
            kind: d.kind,
            restricted_to: d.restricted_to.clone(),
            updated_after_publish: meeting.map(|m| d.updated_after(m.published_at)),
            versions: d.versions.iter().map(VersionView::from).collect(),
        }
    }
}

/// Published later than the body's rule asks.
#[derive(Debug, Clone, Copy, Serialize, TS)]
pub struct PublishWarning {
    /// Working days between publishing and the meeting.
    pub days_before: u32,
    /// Working days the body's rule asks for.
    pub rule_days: u32,
}

/// One row of the attendance sheet.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AttendanceRow {
    pub person: PersonView,
    pub kind: InviteKind,
    pub status: AttendanceStatus,
    pub at: Option<String>,
    /// `null` for someone else's reason, unless the caller is staff or the chair.
    pub reason: Option<String>,
    pub seat: Option<String>,
}

impl From<&Row> for AttendanceRow {
    fn from(r: &Row) -> Self {
        AttendanceRow {
            person: PersonView::from(&r.person),
            kind: r.kind,
            status: r.record.status,
            at: r.record.at.map(super::utc),
            reason: r.record.reason.clone(),
            seat: r.seat.clone(),
        }
    }
}

/// The attendance sheet with the live quorum.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AttendanceSheet {
    pub quorum: Quorum,
    pub rows: Vec<AttendanceRow>,
}

impl From<&Sheet> for AttendanceSheet {
    fn from(s: &Sheet) -> Self {
        AttendanceSheet {
            quorum: s.quorum,
            rows: s.rows.iter().map(AttendanceRow::from).collect(),
        }
    }
}

/// A meeting as one caller may see it: the visibility policy picks the documents.
#[derive(Debug, Clone, Serialize, TS)]
pub struct MeetingView {
    pub id: Id,
    pub body_id: Id,
    pub title: String,
    pub starts_at: String,
    pub place: String,
    pub chair_id: Option<Id>,
    pub members: Vec<Id>,
    pub guests: Vec<Id>,
    pub status: MeetingStatus,
    pub published_at: Option<String>,
    pub review_comment: Option<String>,
    pub agenda: Vec<Item>,
    pub documents: Vec<DocumentView>,
    pub publish_warning: Option<PublishWarning>,
    /// Which details changed after publishing ("đã cập nhật").
    pub changed_after_publish: ChangedDetails,
    pub my_role: MeetingRole,
    /// Where the live meeting stands (the projector picks the running or paused one).
    pub live_phase: Phase,
    /// On the hub: the room box it was handed to; the hub changes it no more.
    pub handed_over_to: Option<crate::domain::records::HandedOver>,
    /// On a room box: the central office prepared it and handed it to this room.
    pub from_hub: bool,
    /// The caller's own row, on `GET /api/meetings/{id}` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub my_attendance: Option<Option<AttendanceRow>>,
    /// The caller's own seat, on `GET /api/meetings/{id}` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub my_seat: Option<Option<String>>,
}

impl MeetingView {
    pub fn of(
        m: &Meeting,
        role: MeetingRole,
        viewer: Viewer<'_>,
        warning: Option<(u32, u32)>,
    ) -> Self {
        MeetingView {
            id: m.id.clone(),
            body_id: m.body_id.clone(),
            title: m.title.clone(),
            starts_at: super::utc(m.starts_at),
            place: m.place.clone(),
            chair_id: m.chair_id.clone(),
            members: m.members.clone(),
            guests: m.guests.clone(),
            status: m.status,
            published_at: m.published_at.map(super::utc),
            review_comment: m.review_comment.clone(),
            agenda: m.agenda.clone(),
            documents: m
                .documents
                .iter()
                .filter(|d| visibility::sees_document(viewer, role, d))
                .map(|d| DocumentView::of(d, Some(m)))
                .collect(),
            publish_warning: warning.map(|(days_before, rule_days)| PublishWarning {
                days_before,
                rule_days,
            }),
            changed_after_publish: m.changed_after_publish,
            my_role: role,
            live_phase: Phase::NotStarted,
            handed_over_to: m.handed_over_to.clone(),
            from_hub: m.adopted_from.is_some(),
            my_attendance: None,
            my_seat: None,
        }
    }
}

/// A paired projector screen, as the secretary's list shows it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DisplayView {
    pub id: Id,
    pub label: String,
    pub paired_at: String,
    pub revoked_at: Option<String>,
}

impl From<&crate::domain::records::Display> for DisplayView {
    fn from(d: &crate::domain::records::Display) -> Self {
        DisplayView {
            id: d.id.clone(),
            label: d.label.clone(),
            paired_at: super::utc(d.paired_at),
            revoked_at: d.revoked_at.map(super::utc),
        }
    }
}

/// `GET /api/displays`.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DisplayList {
    pub displays: Vec<DisplayView>,
}

/// `POST /api/displays/code`: the code to type on the screen, and the QR link (its long form).
#[derive(Debug, Clone, Serialize, TS)]
pub struct DisplayCode {
    pub code: String,
    pub link: String,
    /// The same link by the box's IP address, for a TV that cannot resolve `.local` names.
    pub ip_link: Option<String>,
    pub expires_at: String,
}

/// `GET /api/meetings`.
#[derive(Debug, Clone, Serialize, TS)]
pub struct MeetingList {
    pub meetings: Vec<MeetingView>,
}

/// The document the chair asks tablets to follow: which and where, or only that it is one the
/// caller may not see.
#[derive(Debug, Clone, Serialize, TS)]
pub struct FollowView {
    pub document_id: Option<Id>,
    pub page: Option<u32>,
    pub since: Option<String>,
    /// The chair shows a document this caller may not see: stop following, say so.
    pub hidden: bool,
}

/// `GET /api/meetings/{id}/live`: the live meeting, and the box's clock to time it by.
#[derive(Debug, Clone, Serialize, TS)]
pub struct LiveView {
    pub meeting_id: Id,
    /// The box's clock when this was read (milliseconds): screens time countdowns by it, not
    /// by their own clock.
    pub now: String,
    /// The log's head this view reflects: open the feed with `?since=` it.
    #[ts(type = "number")]
    pub seq: u64,
    pub role: MeetingRole,
    /// Whether the caller may run the console.
    pub can_run: bool,
    pub phase: Phase,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    pub paused: Option<Pause>,
    pub item: Option<CurrentItem>,
    /// Milliseconds spent on items that are not current.
    #[ts(type = "Record<string, number>")]
    pub item_spent_ms: std::collections::BTreeMap<Id, i64>,
    /// Waiting requests of every item, in the order they will be heard.
    pub queue: Vec<Request>,
    pub speaking: Option<Speaking>,
    /// Speeches heard, in order.
    pub history: Vec<Speech>,
    pub limits: SpeechLimits,
    pub follow: Option<FollowView>,
    /// The secretary's account the chair handed the console to.
    pub operator: Option<String>,
}

impl From<&crate::service::live::Snapshot> for LiveView {
    fn from(s: &crate::service::live::Snapshot) -> Self {
        let st = &s.state;
        LiveView {
            meeting_id: s.meeting.id.clone(),
            now: super::utc(s.now),
            seq: s.seq,
            role: s.role,
            can_run: s.can_run,
            phase: st.phase,
            started_at: st.started_at.map(super::utc),
            ended_at: st.ended_at.map(super::utc),
            paused: st.paused.clone(),
            item: st.item.clone(),
            item_spent_ms: st.item_spent_ms.clone(),
            queue: st.queue.clone(),
            speaking: st.speaking.clone(),
            history: s.history.clone(),
            limits: st.limits,
            follow: st.follow.as_ref().map(|f| {
                if s.follow_visible {
                    FollowView {
                        document_id: Some(f.document_id.clone()),
                        page: Some(f.page),
                        since: Some(super::utc(f.since)),
                        hidden: false,
                    }
                } else {
                    FollowView {
                        document_id: None,
                        page: None,
                        since: None,
                        hidden: true,
                    }
                }
            }),
            operator: st.operator.as_ref().map(|u| u.to_string()),
        }
    }
}

/// One person's line in the speaking report.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SpeakerLine {
    pub person_id: Id,
    pub name: String,
    pub speeches: u32,
    /// Seconds actually spoken.
    #[ts(type = "number")]
    pub seconds: u64,
    pub over_time: u32,
    #[ts(type = "Partial<Record<SpeechKind, number>>")]
    pub by_kind: std::collections::BTreeMap<SpeechKind, u32>,
}

/// `GET /api/meetings/{id}/live/report`: who spoke how often and how long, and every speech.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SpeakingReport {
    pub speakers: Vec<SpeakerLine>,
    pub speeches: Vec<Speech>,
}
