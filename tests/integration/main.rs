//! Integration tests: each starts the real `phonghop` binary with a fresh data directory.

mod access;
mod data_dir;
mod discovery;
mod disk_full;
mod durability;
mod helpers;
mod hostile;
mod lifecycle;
mod live_feed;
mod onboarding;
mod prepare;
mod tablets;
mod tls_chain;
