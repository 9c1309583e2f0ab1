//! The hostile client at full size, for `make bench` (benches/hostile.sh). Two runs:
//!
//! - `sign-ins <https-port> <root.pem> <pid>`: 1,000 failed sign-ins, 100 at a time, each from
//!   its own loopback address and user name (no lockout stops them; only the argon2 gate
//!   does), then the box's RSS.
//! - `slow <https-port> <http-port> <root.pem>`: 2,000 connections that never send a request
//!   and 200 that trickle a header byte a second, held open on both ports while a normal
//!   client asks `/api/room` every 100 ms; reports that client's latencies.
//!
//! Addresses 127.0.x.y all reach the box on Linux, as a rotating attacker's would.

use reqwest::Client;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

fn addr(n: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        127,
        0,
        (n / 250) as u8 + 1,
        (2 + n % 250) as u8,
    ))
}

fn client(pem: &[u8], from: Option<IpAddr>) -> Client {
    let mut b = Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(pem).expect("root.pem"))
        .timeout(Duration::from_secs(30));
    if let Some(ip) = from {
        b = b.local_address(ip);
    }
    b.build().expect("client")
}

fn rss_kib(pid: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

async fn sign_ins(port: u16, pem: &[u8], pid: &str) {
    let url = format!("https://127.0.0.1:{port}/api/session");
    let origin = format!("https://127.0.0.1:{port}");
    println!("RSS before: {} MiB", rss_kib(pid) / 1024);
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    let started = Instant::now();
    let mut peak = 0;
    for round in 0..10 {
        let burst = (0..100).map(|i| {
            let n = round * 100 + i;
            let c = client(pem, Some(addr(n)));
            let (url, origin) = (url.clone(), origin.clone());
            async move {
                let r = c
                    .post(&url)
                    .header("origin", &origin)
                    .json(&serde_json::json!({"username": format!("la-{n}"), "password": "khong-phai-mat-khau"}))
                    .send()
                    .await;
                match r {
                    Ok(r) => {
                        let s = r.status().as_u16();
                        let v: serde_json::Value = r.json().await.unwrap_or_default();
                        format!("{s} {}", v["code"].as_str().unwrap_or(""))
                    }
                    Err(e) => format!("error {e}"),
                }
            }
        });
        for r in futures_util::future::join_all(burst).await {
            *tally.entry(r).or_default() += 1;
        }
        peak = peak.max(rss_kib(pid));
    }
    println!(
        "1000 failed sign-ins, 100 at a time, in {:.1} s: {tally:?}",
        started.elapsed().as_secs_f64()
    );
    println!("RSS peak between bursts: {} MiB", peak / 1024);
    println!("RSS after: {} MiB", rss_kib(pid) / 1024);
    tokio::time::sleep(Duration::from_secs(3)).await;
    println!("RSS 3 s later: {} MiB", rss_kib(pid) / 1024);
}

async fn connect_from(from: IpAddr, port: u16) -> std::io::Result<TcpStream> {
    let s = TcpSocket::new_v4()?;
    s.bind(SocketAddr::new(from, 0))?;
    s.connect(SocketAddr::new([127, 0, 0, 1].into(), port))
        .await
}

async fn slow(https: u16, http: u16, pem: &[u8]) {
    let started = Instant::now();
    let mut idle = Vec::new();
    let mut failed = 0;
    for n in 0..2000 {
        let port = if n % 2 == 0 { https } else { http };
        match connect_from(addr(n / 100), port).await {
            Ok(t) => idle.push(t),
            Err(_) => failed += 1,
        }
    }
    let mut tricklers = Vec::new();
    for n in 0..200 {
        if let Ok(mut t) = connect_from(addr(40 + n / 100), http).await {
            if t.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .await
                .is_ok()
            {
                tricklers.push(t);
            }
        }
    }
    println!(
        "opened {} idle and {} trickling connections in {:.1} s ({failed} refused at connect)",
        idle.len(),
        tricklers.len(),
        started.elapsed().as_secs_f64()
    );
    let trickle = tokio::spawn(async move {
        for _ in 0..15 {
            for t in tricklers.iter_mut() {
                let _ = t.write_all(b"a").await;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        // Closed by the box: a read ends (EOF or reset) at once.
        let mut closed = 0;
        for t in tricklers.iter_mut() {
            let mut buf = [0u8; 512];
            loop {
                match tokio::time::timeout(Duration::from_millis(20), t.read(&mut buf)).await {
                    Ok(Ok(0)) | Ok(Err(_)) => {
                        closed += 1;
                        break;
                    }
                    Ok(Ok(_)) => continue,
                    Err(_) => break,
                }
            }
        }
        (closed, tricklers.len())
    });
    let c = client(pem, None);
    let url = format!("https://127.0.0.1:{https}/api/room");
    let mut took = Vec::new();
    let mut errors = 0;
    for _ in 0..100 {
        let t0 = Instant::now();
        match c.get(&url).send().await {
            Ok(r) if r.status().is_success() => took.push(t0.elapsed()),
            _ => errors += 1,
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    took.sort();
    let pct = |p: usize| took.get(took.len() * p / 100).copied().unwrap_or_default();
    println!(
        "normal client while they are held: {} answers, {errors} errors; p50 {:?}, p99 {:?}, max {:?}",
        took.len(),
        pct(50),
        pct(99),
        took.last().copied().unwrap_or_default()
    );
    let (closed, all) = trickle.await.unwrap_or((0, 0));
    println!("tricklers cut off by the box within 15 s: {closed} of {all}");
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    match arg(1).as_str() {
        "sign-ins" => {
            let pem = std::fs::read(arg(3)).expect("root.pem");
            sign_ins(arg(2).parse().expect("port"), &pem, &arg(4)).await;
        }
        "slow" => {
            let pem = std::fs::read(arg(4)).expect("root.pem");
            slow(
                arg(2).parse().expect("https port"),
                arg(3).parse().expect("http port"),
                &pem,
            )
            .await;
        }
        _ => eprintln!("usage: hostile-load sign-ins <https-port> <root.pem> <pid> | slow <https-port> <http-port> <root.pem>"),
    }
}
