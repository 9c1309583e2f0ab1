//! The `phonghop` binary: installs the TLS provider once, then hands over to the CLI.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    if rustls::crypto::ring::default_provider()
        .install_default()
        .is_err()
    {
        eprintln!("phonghop: a TLS provider was already installed");
        return ExitCode::from(70);
    }
    phonghop::cli::run(phonghop::cli::Cli::parse())
}
