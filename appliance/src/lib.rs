//! Phonghop: a paperless meeting room that keeps working when the internet does not.
//!
//! One binary runs a room box (`serve`) and the central office (`hub`). The modules follow the
//! layout fixed in `shared/DESIGN.md` and mapped in `docs/architecture.md`:
//! - [`domain`]: the meeting's rules as pure types, with no I/O;
//! - [`store`]: the redb file, the node's event log and read models, and the blob store;
//! - [`tls`]: the box's own certificate authority and the hot-reloaded server certificate;
//! - [`http`]: the axum routers for HTTPS (the app and its API) and plain HTTP (onboarding);
//! - [`evidence`]: a closed vote's evidence package (ZIP, PDF) and its offline check;
//! - [`discovery`]: the mDNS announcement on the room's LAN;
//! - [`sync`]: enrolment with the central office and the box's sync loop (the hub's side of
//!   the wire is in `http::sync`);
//! - [`server`]: start-up and shutdown, which tie the rest together;
//! - [`ops`]: `backup`, `restore` and `doctor`, and the control socket a running box answers on;
//! - [`watchdog`]: systemd's readiness, watchdog and stopping messages;
//! - [`update`]: signed updates, the boot selection of a staged release and its rollback.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod access_sheet;
pub mod annotated;
pub mod auth;
pub mod cli;
pub mod config;
mod contract;
pub mod demo;
pub mod discovery;
pub mod domain;
pub mod evidence;
pub mod http;
pub mod import;
#[cfg(test)]
mod layers;
pub mod metrics;
pub mod ops;
pub mod qr;
pub mod server;
pub mod service;
pub mod signing;
pub mod store;
pub mod sync;
/// The test PDFs the integration tests and benches use, for the unit tests too.
#[cfg(test)]
#[path = "../../tests/support/pdfs.rs"]
pub(crate) mod test_pdfs;
pub mod tls;
pub mod update;
pub mod watchdog;
