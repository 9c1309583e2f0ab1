//! Attendance and the live quorum: one-tap check-in from a paired tablet, leave of absence sent
//! ahead, and the secretary's corrections. Every change is an event.

use super::meetings::{visible, MeetingRole};
use super::{Caller, Refusal, ServiceError};
use crate::domain::quorum::Quorum;
use crate::domain::records::{AttendanceRecord, AttendanceStatus, Id, Meeting, Person};
use crate::domain::EventBody;
use crate::store::{records, Store};
use time::OffsetDateTime;

/// Whether a row counts for the quorum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum InviteKind {
    Member,
    Guest,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub person: Person,
    pub kind: InviteKind,
    pub record: AttendanceRecord,
    pub seat: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Sheet {
    pub meeting: Meeting,
    pub quorum: Quorum,
    pub rows: Vec<Row>,
}

/// The attendance sheet of a meeting: everyone invited, in Vietnamese order, with the quorum.
/// Delegates and guests see who is there, not others' phone numbers or reasons for absence.
pub fn sheet(store: &Store, caller: &Caller, meeting_id: &Id) -> Result<Sheet, ServiceError> {
    let (meeting, role) = visible(store, caller, meeting_id)?;
    let mut sheet = build_sheet(store, meeting)?;
    let viewer = caller.viewer();
    for row in sheet.rows.iter_mut() {
        if !crate::domain::visibility::sees_private_attendance(viewer, role, &row.person.id) {
            row.person.phone = None;
            row.record.reason = None;
        }
    }
    Ok(sheet)
}

fn build_sheet(store: &Store, meeting: Meeting) -> Result<Sheet, ServiceError> {
    let sheet = store.read(|txn| {
        let body = records::body(txn, &meeting.body_id)?
            .ok_or_else(|| crate::store::StoreError::Db("meeting without body".into()))?;
        let marks = records::attendance(txn, &meeting.id)?;
        let seats = records::seats(txn, &meeting.id)?;
        let mut rows = Vec::new();
        let invited = meeting
            .members
            .iter()
            .map(|p| (p, InviteKind::Member))
            .chain(meeting.guests.iter().map(|p| (p, InviteKind::Guest)));
        for (pid, kind) in invited {
            let Some(person) = records::person(txn, pid)? else {
                continue;
            };
            let seat = seats
                .iter()
                .find(|(_, who)| *who == pid)
                .map(|(s, _)| s.clone());
            rows.push(Row {
                person,
                kind,
                record: marks.get(pid).cloned().unwrap_or_default(),
                seat,
            });
        }
        crate::domain::person::sort_by_name(&mut rows, |r| &r.person.name);
        let present = rows
            .iter()
            .filter(|r| r.kind == InviteKind::Member && r.record.status.in_room())
            .count();
        let members = rows.iter().filter(|r| r.kind == InviteKind::Member).count();
        let quorum = Quorum::of(
            &body.quorum,
            u32::try_from(members).unwrap_or(u32::MAX),
            u32::try_from(present).unwrap_or(u32::MAX),
        );
        Ok(Sheet {
            meeting: meeting.clone(),
            quorum,
            rows,
        })
    })?;
    Ok(sheet)
}

fn own_row(store: &Store, meeting: &Meeting, person: &Id) -> Result<Row, ServiceError> {
    let sheet = build_sheet(store, meeting.clone())?;
    sheet
        .rows
        .into_iter()
        .find(|r| &r.person.id == person)
        .ok_or(ServiceError::NotFound)
}

fn device_person(caller: &Caller, role: MeetingRole) -> Result<Id, ServiceError> {
    match (caller.person_id(), role) {
        (Some(p), MeetingRole::Chair | MeetingRole::Delegate | MeetingRole::Guest) => Ok(p.clone()),
        _ => Err(Refusal::AttendanceDeviceOnly.into()),
    }
}

fn is_invited(meeting: &Meeting, person: &Id) -> bool {
    meeting.members.contains(person) || meeting.guests.contains(person)
}

/// One tap on the tablet: "I am here". Tapping again changes nothing.
pub fn check_in(store: &Store, caller: &Caller, meeting_id: &Id) -> Result<Row, ServiceError> {
    let (meeting, role) = visible(store, caller, meeting_id)?;
    let person = device_person(caller, role)?;
    if !is_invited(&meeting, &person) {
        return Err(ServiceError::NotFound);
    }
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        let now = tx.read(|t| records::attendance_of(t, &meeting.id, &person))?;
        if now.status.in_room() {
            return Ok((vec![], ()));
        }
        Ok::<_, ServiceError>((
            vec![EventBody::AttendanceMarked {
                meeting_id: meeting.id.clone(),
                person_id: person.clone(),
                status: AttendanceStatus::Present,
                at: Some(OffsetDateTime::now_utc()),
                reason: None,
            }],
            (),
        ))
    })?;
    own_row(store, &meeting, &person)
}

fn parse_reason(raw: &str) -> Result<Option<String>, ServiceError> {
    let r = raw.trim();
    if r.chars().count() > 300 || r.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Refusal::Invalid {
            code: "attendance.bad_reason",
            detail: "a reason is at most 300 characters".into(),
        }
        .into());
    }
    Ok((!r.is_empty()).then(|| r.to_owned()))
}

/// Báo vắng: the delegate sends a leave of absence from their tablet.
pub fn absence(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
    reason: &str,
) -> Result<Row, ServiceError> {
    let (meeting, role) = visible(store, caller, meeting_id)?;
    let person = device_person(caller, role)?;
    if !is_invited(&meeting, &person) {
        return Err(ServiceError::NotFound);
    }
    let reason = parse_reason(reason)?;
    store.write(caller.actor(), |tx| -> Result<_, ServiceError> {
        let now = tx.read(|t| records::attendance_of(t, &meeting.id, &person))?;
        if now.status.in_room() {
            return Err(Refusal::AttendanceAlreadyPresent.into());
        }
        Ok::<_, ServiceError>((
            vec![EventBody::AttendanceMarked {
                meeting_id: meeting.id.clone(),
                person_id: person.clone(),
                status: AttendanceStatus::Excused,
                at: Some(OffsetDateTime::now_utc()),
                reason: reason.clone(),
            }],
            (),
        ))
    })?;
    own_row(store, &meeting, &person)
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mark {
    pub status: AttendanceStatus,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub at: Option<OffsetDateTime>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// The secretary's correction for one person.
pub fn mark(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
    person: &Id,
    m: Mark,
) -> Result<Row, ServiceError> {
    let (meeting, role) = visible(store, caller, meeting_id)?;
    if role != MeetingRole::Secretary {
        return Err(ServiceError::Forbidden);
    }
    if !is_invited(&meeting, person) {
        return Err(ServiceError::NotFound);
    }
    let reason = parse_reason(m.reason.as_deref().unwrap_or(""))?;
    let at = match m.status {
        AttendanceStatus::Invited => None,
        _ => Some(m.at.unwrap_or_else(OffsetDateTime::now_utc)),
    };
    store.write(caller.actor(), |_| -> Result<_, ServiceError> {
        Ok::<_, ServiceError>((
            vec![EventBody::AttendanceMarked {
                meeting_id: meeting.id.clone(),
                person_id: person.clone(),
                status: m.status,
                at,
                reason: reason.clone(),
            }],
            (),
        ))
    })?;
    own_row(store, &meeting, person)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn status_vi(s: AttendanceStatus) -> &'static str {
    match s {
        AttendanceStatus::Invited => "Chưa điểm danh",
        AttendanceStatus::Excused => "Vắng có phép",
        AttendanceStatus::Present => "Có mặt",
        AttendanceStatus::Late => "Đến muộn",
        AttendanceStatus::LeftEarly => "Về sớm",
        AttendanceStatus::Absent => "Vắng không phép",
    }
}

/// The attendance list as CSV for Excel: UTF-8 with a BOM, Vietnamese headers, local times
/// (UTC+7, Vietnam has no daylight saving).
pub fn csv(
    store: &Store,
    caller: &Caller,
    meeting_id: &Id,
) -> Result<(String, String), ServiceError> {
    let (meeting, role) = visible(store, caller, meeting_id)?;
    if !matches!(role, MeetingRole::Secretary | MeetingRole::Chair) {
        return Err(ServiceError::Forbidden);
    }
    let sheet = build_sheet(store, meeting)?;
    let tz = time::UtcOffset::from_hms(7, 0, 0).unwrap_or(time::UtcOffset::UTC);
    let fmt = time::macros::format_description!("[hour]:[minute] [day]/[month]/[year]");
    let mut out = String::from(
        "\u{feff}STT,Họ và tên,Chức vụ,Đơn vị,Thành phần,Trạng thái,Thời gian,Lý do\r\n",
    );
    for (i, r) in sheet.rows.iter().enumerate() {
        let at = r
            .record
            .at
            .and_then(|t| t.to_offset(tz).format(&fmt).ok())
            .unwrap_or_default();
        let cells = [
            (i + 1).to_string(),
            r.person.name.as_str().to_owned(),
            r.person
                .position
                .as_ref()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
            r.person
                .unit
                .as_ref()
                .map(|u| u.as_str().to_owned())
                .unwrap_or_default(),
            match r.kind {
                InviteKind::Member => "Thành viên".to_owned(),
                InviteKind::Guest => "Khách mời".to_owned(),
            },
            status_vi(r.record.status).to_owned(),
            at,
            r.record.reason.clone().unwrap_or_default(),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_field(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out.push_str(&format!(
        "\r\n,Có mặt,{}/{},Cần,{},{}\r\n",
        sheet.quorum.present,
        sheet.quorum.members,
        sheet.quorum.required,
        if sheet.quorum.reached {
            "Đủ số lượng"
        } else {
            "Chưa đủ số lượng"
        }
    ));
    Ok((sheet.meeting.title.clone(), out))
}
