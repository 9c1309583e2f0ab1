//! The `phonghop` binary: bounds the allocator's per-thread heaps, installs the TLS provider
//! once, then hands over to the CLI.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    phonghop::auth::limit_malloc_arenas();
    if rustls::crypto::ring::default_provider()
        .install_default()
        .is_err()
    {
        eprintln!("phonghop: a TLS provider was already installed");
        return ExitCode::from(70);
    }
    phonghop::cli::run(phonghop::cli::Cli::parse())
}
