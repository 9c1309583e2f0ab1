//! Helper for benches/sync-link.sh (issue 12, the shaped link between a box and its hub).
//!
//!   sync-link gen DIR MB
//!       writes a meeting package of about MB megabytes (10^6 bytes) to DIR: distinct PDFs of
//!       0.3 to 2 MB made from the fixtures (tests/support/pdfs.rs), each with its own hash;
//!       prints `files N bytes B`.
//!   sync-link proxy LISTEN TARGET STATS
//!       forwards every TCP connection from LISTEN to TARGET untouched (the fault proxy of the
//!       tests with a clean schedule) and rewrites STATS as JSON every 200 ms:
//!       {"accepted","bytes_up","bytes_down"}, the bytes the application on the hub side
//!       received and sent. Runs until killed.

#[path = "../tests/support/faultproxy.rs"]
mod faultproxy;
#[path = "../tests/support/pdfs.rs"]
mod pdfs;

use anyhow::{bail, Context, Result};
use rand::{Rng, SeedableRng};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["gen", dir, mb] => gen(PathBuf::from(dir), mb.parse().context("MB")?),
        ["proxy", listen, target, stats] => tokio::runtime::Runtime::new()?.block_on(proxy(
            listen.parse().context("LISTEN")?,
            target.parse().context("TARGET")?,
            PathBuf::from(stats),
        )),
        _ => bail!("usage: sync-link gen DIR MB | sync-link proxy LISTEN TARGET STATS"),
    }
}

fn gen(dir: PathBuf, mb: u64) -> Result<()> {
    std::fs::create_dir_all(&dir)?;
    let target = mb * 1_000_000;
    let mut rng = rand::rngs::StdRng::seed_from_u64(12);
    let (mut total, mut n) = (0u64, 0u64);
    while total < target {
        let size = rng
            .gen_range(300_000..2_000_000u64)
            .min((target - total).max(40_000));
        let pdf = pdfs::meeting_pdf(n, size as usize);
        std::fs::write(dir.join(format!("tai-lieu-{n:04}.pdf")), &pdf)?;
        total += pdf.len() as u64;
        n += 1;
    }
    println!("files {n} bytes {total}");
    Ok(())
}

async fn proxy(listen: SocketAddr, target: SocketAddr, stats: PathBuf) -> Result<()> {
    let p = faultproxy::FaultProxy::start_on(listen, target, faultproxy::Schedule::clean()).await?;
    let tmp = stats.with_extension("tmp");
    loop {
        let s = p.stats();
        std::fs::write(
            &tmp,
            format!(
                "{{\"accepted\":{},\"bytes_up\":{},\"bytes_down\":{}}}\n",
                s.accepted, s.bytes_up, s.bytes_down
            ),
        )?;
        std::fs::rename(&tmp, &stats)?;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
