//! Grows an initialised data directory's event log to a given number of events, through the
//! library's own `Store::append` (so every event is chained, applied and committed exactly as
//! a served write would be), in batches of room notices posted and cleared.
//!
//! Usage (see benches/startup.sh):
//!   phonghop init --data DIR --room "…" --admin-password …
//!   cargo run --release --example gen_log -- DIR 1000000 [batch]
//!
//! It leaves the integrity checkpoint where it was, so the next `serve` walks all of these
//! events at start: the worst case. (A serving box moves its checkpoint every 5 minutes, after
//! the full walk and at shutdown.)

use anyhow::{anyhow, Context, Result};
use phonghop::domain::{Actor, EventBody, NoticeText};
use phonghop::store::Store;
use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .ok_or_else(|| anyhow!("usage: gen_log DIR EVENTS [BATCH]"))?,
    );
    let target: u64 = args
        .next()
        .ok_or_else(|| anyhow!("usage: gen_log DIR EVENTS [BATCH]"))?
        .parse()
        .context("EVENTS")?;
    let batch: u64 = match args.next() {
        Some(b) => b.parse().context("BATCH")?,
        None => 10_000,
    };
    let store = Store::open(&dir).with_context(|| format!("opening {}", dir.display()))?;
    let actor = Actor::Staff {
        username: "thuky".into(),
    };
    let t0 = Instant::now();
    let mut head = store.head_seq()?;
    let start = head;
    while head < target {
        let n = (target - head).min(batch);
        let mut bodies = Vec::with_capacity(n as usize);
        for i in 0..n {
            let seq = head + i + 1;
            if seq % 10 == 0 {
                bodies.push(EventBody::NoticeCleared {});
            } else {
                let text = format!(
                    "Thông báo số {seq}: đại biểu vui lòng về chỗ ngồi, phiên họp tiếp tục sau 5 phút"
                );
                bodies.push(EventBody::NoticePosted {
                    text: NoticeText::parse(&text).map_err(|e| anyhow!("{e}"))?,
                });
            }
        }
        store.append(actor.clone(), bodies)?;
        head = store.head_seq()?;
        if head % 100_000 < batch {
            eprintln!("{head} events ({:.0} s)", t0.elapsed().as_secs_f64());
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "appended {} events in {secs:.1} s; the log now holds {head}; database {} MiB",
        head - start,
        store.db_size() / 1024 / 1024
    );
    Ok(())
}
