//! Acknowledged writes per second against a running box, for a small and a large meeting.
//!
//! Signs in as a secretary over HTTPS (trusting only the box's own CA), creates one meeting per
//! size given in `--items` (e.g. `10,5000`), adds that many agenda items to each, then measures,
//! in alternating rounds so that load from elsewhere on the machine falls on every size alike:
//!   - `PUT /api/meetings/{id}/items/{item}` (update one of the meeting's items), and
//!   - `POST /api/meetings/{id}/items` (add an item),
//!
//! each for `--seconds` with `--concurrency` clients. A write counts once the box has answered
//! 2xx, which it does only after the event is committed durably. Any other answer stops the run.
//! With `--pid`, the box's CPU time per write (user + system, from /proc) is reported too: on a
//! machine shared with other work it wanders much less than writes/s.
//!
//! Usage (see benches/writes.sh, which starts the box):
//!   cargo run --release --example write_load -- --url https://localhost:PORT \
//!       --ca DATA/tls/root.pem --user thuky --password PASS --items 10,5000 \
//!       --seconds 1 --rounds 15 --concurrency 8 --pid BOX_PID

use anyhow::{anyhow, bail, Context, Result};
use reqwest::{Certificate, Client, StatusCode};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    url: String,
    ca: String,
    user: String,
    password: String,
    items: Vec<usize>,
    seconds: f64,
    rounds: u32,
    concurrency: usize,
    /// The box's process id, to charge it the CPU time each phase costs.
    pid: Option<u32>,
}

/// CPU time (user + system, all threads) the process has used so far, in seconds.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    // SAFETY: sysconf only reads a configuration value.
    let tick = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    (tick > 0.0).then(|| (utime + stime) / tick)
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        url: String::new(),
        ca: String::new(),
        user: "thuky".into(),
        password: String::new(),
        items: vec![10, 5000],
        seconds: 1.0,
        rounds: 15,
        concurrency: 8,
        pid: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or_else(|| anyhow!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => a.url = val()?,
            "--ca" => a.ca = val()?,
            "--user" => a.user = val()?,
            "--password" => a.password = val()?,
            "--items" => {
                a.items = val()?
                    .split(',')
                    .map(|s| s.trim().parse::<usize>())
                    .collect::<Result<_, _>>()
                    .context("--items: comma-separated counts")?
            }
            "--seconds" => a.seconds = val()?.parse()?,
            "--rounds" => a.rounds = val()?.parse()?,
            "--concurrency" => a.concurrency = val()?.parse()?,
            "--pid" => a.pid = Some(val()?.parse()?),
            other => bail!("unknown argument {other}"),
        }
    }
    if a.url.is_empty() || a.ca.is_empty() || a.password.is_empty() {
        bail!("--url, --ca and --password are required");
    }
    if a.concurrency == 0 || a.items.is_empty() {
        bail!("--concurrency and --items must not be empty or zero");
    }
    Ok(a)
}

#[derive(Clone)]
struct Api {
    client: Client,
    url: String,
    cookie: String,
}

impl Api {
    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> Result<Value> {
        let r = self
            .client
            .request(method.clone(), format!("{}{path}", self.url))
            .header("origin", &self.url)
            .header("cookie", &self.cookie)
            .json(&body)
            .send()
            .await?;
        let status = r.status();
        let text = r.text().await?;
        if !status.is_success() {
            bail!("{method} {path}: {status}: {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }
    async fn post(&self, path: &str, body: Value) -> Result<Value> {
        self.send(reqwest::Method::POST, path, body).await
    }
}

fn id_of(v: &Value) -> Result<String> {
    v["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("no id in {v}"))
}

async fn sign_in(client: &Client, url: &str, user: &str, password: &str) -> Result<String> {
    let r = client
        .post(format!("{url}/api/session"))
        .header("origin", url)
        .json(&json!({"username": user, "password": password}))
        .send()
        .await?;
    if r.status() != StatusCode::OK && r.status() != StatusCode::CREATED {
        bail!("sign-in as {user}: {}", r.status());
    }
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .ok_or_else(|| anyhow!("sign-in gave no cookie"))?;
    Ok(cookie.to_owned())
}

/// Adds `n` items to `meeting` with `concurrency` clients; returns their ids.
async fn fill(api: &Api, meeting: &str, n: usize, concurrency: usize) -> Result<Vec<String>> {
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (api, next, meeting) = (api.clone(), next.clone(), meeting.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= n {
                    return Ok::<_, anyhow::Error>(ids);
                }
                let v = api
                    .post(
                        &format!("/api/meetings/{meeting}/items"),
                        json!({"title": format!("Nội dung số {}", i + 1), "presenter": "Văn phòng UBND", "duration_minutes": 15}),
                    )
                    .await?;
                ids.push(id_of(&v)?);
            }
        }));
    }
    let mut ids = Vec::with_capacity(n);
    for t in tasks {
        ids.extend(t.await??);
    }
    Ok(ids)
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Update,
    Add,
}

struct Phase {
    done: u64,
    /// The box's CPU seconds during the phase, if its pid is known.
    cpu: Option<f64>,
    elapsed: Duration,
    latencies_us: Vec<u64>,
}

/// Runs one operation against one meeting for `seconds` with `concurrency` clients.
async fn phase(
    api: &Api,
    meeting: &str,
    items: Arc<Vec<String>>,
    op: Op,
    seconds: f64,
    concurrency: usize,
    pid: Option<u32>,
) -> Result<Phase> {
    let cpu0 = pid.and_then(cpu_seconds);
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let (api, meeting, items) = (api.clone(), meeting.to_owned(), items.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            // A cheap spread over the items, different per worker.
            let mut k = (worker as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let mut n = 0u64;
            while Instant::now() < until {
                k ^= k << 13;
                k ^= k >> 7;
                k ^= k << 17;
                let t0 = Instant::now();
                match op {
                    Op::Update => {
                        let item = &items[(k % items.len() as u64) as usize];
                        api.send(
                            reqwest::Method::PUT,
                            &format!("/api/meetings/{meeting}/items/{item}"),
                            json!({"title": format!("Nội dung đã sửa {worker}-{n}")}),
                        )
                        .await?;
                    }
                    Op::Add => {
                        api.post(
                            &format!("/api/meetings/{meeting}/items"),
                            json!({"title": format!("Nội dung thêm {worker}-{n}")}),
                        )
                        .await?;
                    }
                }
                lat.push(t0.elapsed().as_micros() as u64);
                n += 1;
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut latencies_us = Vec::new();
    for t in tasks {
        latencies_us.extend(t.await??);
    }
    let elapsed = start.elapsed();
    let cpu = match (cpu0, pid.and_then(cpu_seconds)) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    latencies_us.sort_unstable();
    Ok(Phase {
        done: latencies_us.len() as u64,
        cpu,
        elapsed,
        latencies_us,
    })
}

fn pct(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

/// (largest - smallest) / largest, in percent.
fn spread(v: &[f64]) -> f64 {
    let (lo, hi) = v
        .iter()
        .fold((f64::MAX, 0f64), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
    if hi > 0.0 {
        (hi - lo) / hi * 100.0
    } else {
        0.0
    }
}

fn cpu_per_write(cpu: Option<f64>, done: u64) -> String {
    match cpu {
        Some(c) if done > 0 => format!("  box CPU {:.0} µs/write", c / done as f64 * 1e6),
        _ => String::new(),
    }
}

#[derive(Default)]
struct Total {
    done: u64,
    cpu: f64,
    secs: f64,
    lat: Vec<u64>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let a = parse_args()?;
    let pem = std::fs::read(&a.ca).with_context(|| format!("reading {}", a.ca))?;
    let client = Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(Certificate::from_pem(&pem)?)
        .timeout(Duration::from_secs(60))
        .build()?;
    let cookie = sign_in(&client, &a.url, &a.user, &a.password).await?;
    let api = Api {
        client,
        url: a.url.clone(),
        cookie,
    };
    let body = id_of(
        &api.post(
            "/api/bodies",
            json!({"name": "UBND xã (đo tải)", "kind": "ubnd"}),
        )
        .await?,
    )?;
    let mut meetings = Vec::new();
    for &n in &a.items {
        let m = id_of(
            &api.post(
                "/api/meetings",
                json!({"body_id": body, "title": format!("Họp đo tải, {n} nội dung"), "starts_at": "2027-01-05T01:00:00Z"}),
            )
            .await?,
        )?;
        let t0 = Instant::now();
        let items = fill(&api, &m, n, a.concurrency).await?;
        let secs = t0.elapsed().as_secs_f64();
        println!(
            "meeting with {n} items created ({:.0} items/s while filling)",
            n as f64 / secs.max(1e-9)
        );
        meetings.push((n, m, Arc::new(items)));
    }
    println!(
        "measuring: {} rounds x {} s per phase, {} concurrent clients, HTTPS, each write durable before its 2xx",
        a.rounds, a.seconds, a.concurrency
    );
    let ops = [(Op::Update, "PUT item"), (Op::Add, "POST item")];
    let mut totals: Vec<Vec<Total>> = ops
        .iter()
        .map(|_| a.items.iter().map(|_| Total::default()).collect())
        .collect();
    for round in 1..=a.rounds {
        for (oi, (op, name)) in ops.iter().enumerate() {
            for (mi, (n, m, items)) in meetings.iter().enumerate() {
                let p = phase(&api, m, items.clone(), *op, a.seconds, a.concurrency, a.pid).await?;
                let rate = p.done as f64 / p.elapsed.as_secs_f64();
                println!(
                    "round {round} {name:9} items={n:5}: {rate:8.1} writes/s  p50 {:.2} ms  p99 {:.2} ms{}",
                    pct(&p.latencies_us, 0.5),
                    pct(&p.latencies_us, 0.99),
                    cpu_per_write(p.cpu, p.done)
                );
                let t = &mut totals[oi][mi];
                t.done += p.done;
                t.cpu += p.cpu.unwrap_or(0.0);
                t.secs += p.elapsed.as_secs_f64();
                t.lat.extend(p.latencies_us);
            }
        }
    }
    println!("--- totals");
    let mut worst: f64 = 0.0;
    let mut worst_cpu: f64 = 0.0;
    for (oi, (_, name)) in ops.iter().enumerate() {
        let mut rates = Vec::new();
        let mut costs = Vec::new();
        for (mi, (n, _, _)) in meetings.iter().enumerate() {
            let t = &mut totals[oi][mi];
            t.lat.sort_unstable();
            let rate = t.done as f64 / t.secs;
            rates.push(rate);
            if a.pid.is_some() && t.done > 0 {
                costs.push(t.cpu / t.done as f64);
            }
            println!(
                "{name:9} items={n:5}: {rate:8.1} writes/s  ({} writes in {:.1} s)  p50 {:.2} ms  p99 {:.2} ms{}",
                t.done,
                t.secs,
                pct(&t.lat, 0.5),
                pct(&t.lat, 0.99),
                cpu_per_write(a.pid.map(|_| t.cpu), t.done)
            );
        }
        let diff = spread(&rates);
        worst = worst.max(diff);
        println!("{name:9} spread of writes/s between sizes: {diff:.1}% (target < 10%)");
        if costs.len() == rates.len() {
            let d = spread(&costs);
            worst_cpu = worst_cpu.max(d);
            println!("{name:9} spread of the box's CPU time per write between sizes: {d:.1}%");
        }
    }
    println!(
        "largest spread of writes/s: {worst:.1}% -> {}",
        if worst < 10.0 { "PASS" } else { "FAIL" }
    );
    if a.pid.is_some() {
        println!(
            "largest spread of CPU time per write: {worst_cpu:.1}% -> {}",
            if worst_cpu < 10.0 { "PASS" } else { "FAIL" }
        );
    }
    Ok(())
}
