//! The contract between the box and its web app, as TypeScript: the events the live feeds
//! carry and the records the API returns, generated from the Rust types with `ts-rs`.
//! `web/src/lib/generated/contract.ts` is the output; `cargo test` fails when it is stale, and
//! `PHONGHOP_BLESS=1 cargo test --lib contract` writes it anew.

#[cfg(test)]
mod tests {
    use crate::domain::device::DeviceKey;
    use crate::domain::event::{
        BodyEntry, DeviceEntry, DisplayEntry, DocumentEntry, EventBody, ItemEntry, LayoutEntry,
        MeetingEntry, PersonEntry, SeatEntry, SpeechRequestEntry, VersionEntry,
    };
    use crate::domain::live::{
        CurrentItem, Pause, Phase, Request, Speaking, Speech, SpeechKind, SpeechLimits,
    };
    use crate::domain::person::{PersonName, Phone, Position, Unit};
    use crate::domain::quorum::{Comparison, Quorum, Threshold};
    use crate::domain::records::{
        AttendanceRecord, AttendanceStatus, Body, BodyKind, ChangedDetails, Document, DocumentKind,
        Id, Item, Layout, LayoutShape, MeetingHeader, MeetingStatus, Person, Seat, Version,
    };
    use crate::domain::visibility::MeetingRole;
    use crate::domain::vote;
    use crate::domain::{NoticeText, Role, RoomName, Username};
    use crate::http::views::{
        AttendanceRow, AttendanceSheet, DisplayCode, DisplayList, DisplayView, DocumentView,
        FollowView, LiveView, MeetingList, MeetingView, PersonView, PublishWarning, SpeakerLine,
        SpeakingReport, VersionView,
    };
    use crate::service::attendance::InviteKind;
    use std::path::PathBuf;
    use ts_rs::{Config, TS};

    fn path() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("web/src/lib/generated/contract.ts")
    }

    /// The declarations, in a fixed order.
    fn render() -> String {
        let cfg = Config::new().with_large_int("number");
        let decls = [
            Id::decl(&cfg),
            RoomName::decl(&cfg),
            NoticeText::decl(&cfg),
            Username::decl(&cfg),
            Role::decl(&cfg),
            PersonName::decl(&cfg),
            Position::decl(&cfg),
            Unit::decl(&cfg),
            Phone::decl(&cfg),
            Comparison::decl(&cfg),
            Threshold::decl(&cfg),
            Quorum::decl(&cfg),
            BodyKind::decl(&cfg),
            MeetingStatus::decl(&cfg),
            DocumentKind::decl(&cfg),
            AttendanceStatus::decl(&cfg),
            LayoutShape::decl(&cfg),
            DeviceKey::decl(&cfg),
            MeetingRole::decl(&cfg),
            SpeechKind::decl(&cfg),
            SpeechLimits::decl(&cfg),
            Phase::decl(&cfg),
            // What the log's events carry.
            PersonEntry::decl(&cfg),
            BodyEntry::decl(&cfg),
            MeetingEntry::decl(&cfg),
            ItemEntry::decl(&cfg),
            DocumentEntry::decl(&cfg),
            VersionEntry::decl(&cfg),
            DeviceEntry::decl(&cfg),
            DisplayEntry::decl(&cfg),
            LayoutEntry::decl(&cfg),
            SeatEntry::decl(&cfg),
            SpeechRequestEntry::decl(&cfg),
            crate::domain::event::HandoverSnapshot::decl(&cfg),
            crate::domain::event::EventRef::decl(&cfg),
            crate::domain::records::HandedOver::decl(&cfg),
            // Voting.
            vote::Choice::decl(&cfg),
            vote::Base::decl(&cfg),
            vote::TieRule::decl(&cfg),
            vote::Counts::decl(&cfg),
            vote::Electorate::decl(&cfg),
            vote::Decision::decl(&cfg),
            vote::Secrecy::decl(&cfg),
            vote::QuestionKind::decl(&cfg),
            vote::Candidate::decl(&cfg),
            vote::Marked::decl(&cfg),
            vote::QuestionEntry::decl(&cfg),
            vote::CandidateTally::decl(&cfg),
            vote::ElectionOutcome::decl(&cfg),
            vote::Outcome::decl(&cfg),
            vote::SignedBallot::decl(&cfg),
            vote::Participation::decl(&cfg),
            vote::ReceiptMark::decl(&cfg),
            vote::VoterKey::decl(&cfg),
            vote::Method::decl(&cfg),
            vote::ResultRecord::decl(&cfg),
            vote::SignedResult::decl(&cfg),
            vote::QuestionStatus::decl(&cfg),
            vote::Question::decl(&cfg),
            vote::Cast::decl(&cfg),
            crate::domain::annotation::AnnotationKind::decl(&cfg),
            crate::domain::annotation::Sharing::decl(&cfg),
            crate::domain::annotation::AnnotationEntry::decl(&cfg),
            crate::domain::annotation::ItemNoteEntry::decl(&cfg),
            EventBody::decl(&cfg),
            // What the API returns.
            Person::decl(&cfg),
            Body::decl(&cfg),
            MeetingHeader::decl(&cfg),
            Item::decl(&cfg),
            Document::decl(&cfg),
            Version::decl(&cfg),
            AttendanceRecord::decl(&cfg),
            Layout::decl(&cfg),
            Seat::decl(&cfg),
            ChangedDetails::decl(&cfg),
            InviteKind::decl(&cfg),
            PersonView::decl(&cfg),
            VersionView::decl(&cfg),
            DocumentView::decl(&cfg),
            PublishWarning::decl(&cfg),
            AttendanceRow::decl(&cfg),
            AttendanceSheet::decl(&cfg),
            MeetingView::decl(&cfg),
            MeetingList::decl(&cfg),
            // The live meeting.
            Request::decl(&cfg),
            Speaking::decl(&cfg),
            Speech::decl(&cfg),
            Pause::decl(&cfg),
            CurrentItem::decl(&cfg),
            FollowView::decl(&cfg),
            LiveView::decl(&cfg),
            SpeakerLine::decl(&cfg),
            SpeakingReport::decl(&cfg),
            DisplayView::decl(&cfg),
            DisplayList::decl(&cfg),
            DisplayCode::decl(&cfg),
            crate::service::vote::MyVote::decl(&cfg),
            crate::service::vote::QuestionSeen::decl(&cfg),
            crate::service::vote::QuestionsSeen::decl(&cfg),
            crate::service::vote::BallotAccepted::decl(&cfg),
            crate::http::votes::VoteProgress::decl(&cfg),
            crate::http::votes::ResultSummary::decl(&cfg),
            crate::service::annotations::AnnotationsSeen::decl(&cfg),
            crate::service::annotations::AnnotationSaved::decl(&cfg),
            crate::service::annotations::NoteSaved::decl(&cfg),
        ];
        let mut out = String::from(
            "// Generated from the Rust types by appliance/src/contract.rs: do not edit.\n\
             // `PHONGHOP_BLESS=1 cargo test --lib contract` writes it anew.\n\n",
        );
        for d in decls {
            out.push_str("export ");
            out.push_str(&d);
            out.push_str("\n\n");
        }
        out.push_str(
            "/** A document the caller could see and no longer may: its tablet drops it. */\n\
             export type DocumentHidden = { meeting_id: Id, document_id: Id, hidden: true };\n\n\
             /** \"Follow me\" on a document the caller may not see: stop following. */\n\
             export type FollowHidden = { meeting_id: Id, hidden: true };\n\n\
             /** One event on a live feed: its place in the node's log, when, and what. A \
             `document.updated` may come as `DocumentHidden`; an `attendance.marked` of \
             someone else comes with `reason: null`. */\n\
             export type FeedEvent = { seq: number, at: string } & (\n  \
             | EventBody\n  \
             | { kind: \"document.updated\", body: DocumentHidden }\n  \
             | { kind: \"follow.set\", body: FollowHidden }\n  \
             | { kind: \"vote.closed\", body: ResultSummary }\n  \
             | { kind: \"annotation.saved\", body: { meeting_id: Id, annotation_id: Id, hidden: true } }\n);\n\n\
             /** The coalesced \"N have voted\" counter (at most 4 a second; not a logged \
             event, so it has no seq). */\n\
             export type ProgressMessage = { kind: \"vote.progress\", body: VoteProgress };\n",
        );
        out
    }

    #[test]
    fn generated_typescript_is_current() {
        let now = render();
        let path = path();
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        if on_disk == now {
            return;
        }
        if std::env::var_os("PHONGHOP_BLESS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, now).unwrap();
            return;
        }
        panic!(
            "{} is stale: run `PHONGHOP_BLESS=1 cargo test --lib contract` and commit it",
            path.display()
        );
    }
}
