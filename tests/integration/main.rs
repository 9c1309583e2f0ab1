//! Integration tests: each starts the real `phonghop` binary with a fresh data directory.

mod access;
mod access_sheet;
mod accounts;
mod annotations;
mod backup_restore;
mod data_dir;
mod discovery;
mod disk_full;
mod displays;
mod doctor;
mod downloads;
mod downward;
mod durability;
mod evidence;
#[path = "../support/faultproxy.rs"]
mod faultproxy;
mod feed_matrix;
mod handover;
mod helpers;
mod hostile;
mod import_lists;
mod integrity;
mod lifecycle;
mod live;
mod live_feed;
mod onboarding;
#[path = "../support/pdfs.rs"]
mod pdfs;
mod prepare;
mod province;
mod provisioning;
mod proxy_faults;
mod shaped_link;
mod sync;
mod sync_faults;
mod systemd;
mod tablets;
mod tls_chain;
mod updates;
mod vote_crash;
mod vote_secrecy;
mod vote_security;
mod votes;
