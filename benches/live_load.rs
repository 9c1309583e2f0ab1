//! N simulated tablets in one live meeting, for `make bench-live` (benches/live.sh starts the
//! box). Issue 9, "Load tool and figures"; the voting issue reuses it.
//!
//! Against a running box, over HTTPS trusting only the box's CA:
//!   1. the secretary creates N people, a body with them as members, a meeting with three
//!      agenda items and a document, and the review publishes it (secretary submits, chair
//!      approves, secretary publishes);
//!   2. every tablet pairs through the real pairing path: the secretary issues a code (the QR
//!      link's form, as a scanned code arrives), the tablet makes its own P-256 key, signs
//!      `phonghop-pair:<node_id>:<code>` and sends a PIN (argon2 on the box, so this runs a few
//!      at a time), keeps its device cookie and checks in. Tablets connect from 127.0.0.2 …
//!      127.0.0.254, as a room's many addresses would, so no per-address cap applies to them;
//!   3. every tablet holds the meeting's live feed open (SSE over its own HTTP/2 connection)
//!      and notes when each event arrives;
//!   4. the measured phase: the chair runs the meeting (start, open items, give the floor,
//!      "follow me" to a page, end the speech, end the meeting) while a few tablets a round
//!      ask to speak at random. For each chair action the tool takes the time from sending it
//!      to its arrival at every tablet. A box without the live-meeting API (before issue 9)
//!      gets the secretary marking attendance instead, with no requests to speak.
//!
//! With `--vote` (issue 10) the rounds are replaced by two votes, a named one and a secret one:
//! the secretary prepares the question, the chair opens it, every tablet signs its ballot with
//! its own P-256 key (as WebCrypto would) and all N send at once over HTTPS while every feed
//! stays open; then the chair closes it. Reported per vote: ballots accepted per second (each
//! verified on the box), the time from the close request to `vote.closed` on every tablet's
//! feed (p50/p99/max; target < 1 s), and whether the signed record lists exactly the ballots
//! (or receipts) sent, each once (exit status 2 otherwise).
//!
//! Reports delivery p50/p99/max over all (action, tablet) pairs, tablets that missed an event
//! (must be 0; exit status 2 otherwise), the box's RSS (idle, peak, after) and CPU time during
//! the measured phase, and how long pairing took.
//!
//! Usage (see benches/live.sh):
//!   live-load --url https://127.0.0.1:PORT --ca DATA/tls/root.pem --tablets 500 \
//!       --secretary thuky:PASS --chair chutri:PASS [--rounds 20] [--interval-ms 300] \
//!       [--speak 0.005] [--pair-concurrency 4] [--pid BOX_PID] [--json] [--retry-speak]
//!   live-load … --vote   (instead of the rounds: the voting phase below)
//!   live-load --connections-only --url … --ca … --tablets N --pid BOX_PID
//!       (what N held connections, then N room feeds, cost the box in RSS)

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine;
use p256::ecdsa::{signature::Signer, Signature, SigningKey};
use rand::Rng;
use reqwest::{Certificate, Client, Method, StatusCode};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Semaphore};

/// The fixture PDF the chair "follows" through.
const PDF: &[u8] = include_bytes!("../tests/fixtures/to-trinh-du-toan.pdf");
/// Loopback source addresses for tablets: 127.0.0.2 … 127.0.0.254.
const ADDRESSES: usize = 253;
/// Per-call timeout for ordinary API calls (not feeds).
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

struct Args {
    url: String,
    ca: String,
    secretary: (String, String),
    chair: (String, String),
    tablets: usize,
    rounds: usize,
    interval: Duration,
    speak: f64,
    pair_concurrency: usize,
    pid: Option<u32>,
    json: bool,
    /// Diagnosis: only open N connections, then N room feeds, and report the box's RSS.
    connections_only: bool,
    /// Every request to speak is sent twice with the same id, as a tablet on a flaky Wi-Fi
    /// retries one whose answer it lost.
    retry_speak: bool,
    /// Instead of the rounds of speeches: a named and a secret vote in which every tablet
    /// signs and sends its ballot at once (issue 10).
    vote: bool,
}

fn user_pass(s: &str) -> Result<(String, String)> {
    let (u, p) = s
        .split_once(':')
        .ok_or_else(|| anyhow!("expected user:password, got {s}"))?;
    Ok((u.to_owned(), p.to_owned()))
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        url: String::new(),
        ca: String::new(),
        secretary: (String::new(), String::new()),
        chair: (String::new(), String::new()),
        tablets: 100,
        rounds: 20,
        interval: Duration::from_millis(300),
        speak: 0.005,
        pair_concurrency: 4,
        pid: None,
        json: false,
        connections_only: false,
        retry_speak: false,
        vote: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--json" {
            a.json = true;
            continue;
        }
        if flag == "--connections-only" {
            a.connections_only = true;
            continue;
        }
        if flag == "--retry-speak" {
            a.retry_speak = true;
            continue;
        }
        if flag == "--vote" {
            a.vote = true;
            continue;
        }
        let mut val = || it.next().ok_or_else(|| anyhow!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => a.url = val()?.trim_end_matches('/').to_owned(),
            "--ca" => a.ca = val()?,
            "--secretary" => a.secretary = user_pass(&val()?)?,
            "--chair" => a.chair = user_pass(&val()?)?,
            "--tablets" => a.tablets = val()?.parse()?,
            "--rounds" => a.rounds = val()?.parse()?,
            "--interval-ms" => a.interval = Duration::from_millis(val()?.parse()?),
            "--speak" => a.speak = val()?.parse()?,
            "--pair-concurrency" => a.pair_concurrency = val()?.parse()?,
            "--pid" => a.pid = Some(val()?.parse()?),
            other => bail!("unknown argument {other}"),
        }
    }
    if a.connections_only && !a.url.is_empty() && !a.ca.is_empty() {
        return Ok(a);
    }
    if a.url.is_empty() || a.ca.is_empty() || a.secretary.1.is_empty() || a.chair.1.is_empty() {
        bail!("--url, --ca, --secretary user:pass and --chair user:pass are required");
    }
    if a.tablets == 0 || a.rounds == 0 || a.pair_concurrency == 0 {
        bail!("--tablets, --rounds and --pair-concurrency must be at least 1");
    }
    Ok(a)
}

// ---------------------------------------------------------------------------------------------
// The box's process, from /proc.

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

/// A `kB` field of /proc/<pid>/status (`VmRSS`, `VmHWM`), in KiB.
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Samples the box's RSS every 50 ms while running; the peak is kept.
struct RssSampler {
    peak: Arc<AtomicU64>,
    on: Arc<AtomicBool>,
}

impl RssSampler {
    fn start(pid: Option<u32>) -> Self {
        let peak = Arc::new(AtomicU64::new(0));
        let on = Arc::new(AtomicBool::new(true));
        if let Some(pid) = pid {
            let (peak, on) = (peak.clone(), on.clone());
            tokio::spawn(async move {
                while on.load(Ordering::Relaxed) {
                    if let Some(k) = status_kib(pid, "VmRSS") {
                        peak.fetch_max(k, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            });
        }
        Self { peak, on }
    }
    fn stop(&self) -> u64 {
        self.on.store(false, Ordering::Relaxed);
        self.peak.load(Ordering::Relaxed)
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP.

fn tablet_addr(n: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, (2 + n % ADDRESSES) as u8))
}

fn client(pem: &[u8], from: Option<IpAddr>) -> Result<Client> {
    let mut b = Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(Certificate::from_pem(pem)?)
        .connect_timeout(Duration::from_secs(20))
        // A tablet keeps its one connection for the whole meeting.
        .pool_idle_timeout(None)
        .pool_max_idle_per_host(1);
    if let Some(ip) = from {
        b = b.local_address(ip);
    }
    Ok(b.build()?)
}

#[derive(Clone)]
struct Api {
    client: Client,
    url: String,
    cookie: String,
}

impl Api {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, Value)> {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.url))
            .timeout(CALL_TIMEOUT)
            .header("origin", &self.url)
            .header("cookie", &self.cookie);
        if let Some(b) = body {
            req = req.json(b);
        }
        let r = req.send().await?;
        let status = r.status();
        let text = r.text().await?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    /// A call that must succeed.
    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value> {
        let (s, v) = self.call(method.clone(), path, body.as_ref()).await?;
        if !s.is_success() {
            bail!("{method} {path}: {s}: {v}");
        }
        Ok(v)
    }
}

fn id_of(v: &Value) -> Result<String> {
    v["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("no id in {v}"))
}

fn cookie_named(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

async fn sign_in(client: &Client, url: &str, user: &str, password: &str) -> Result<Api> {
    let r = client
        .post(format!("{url}/api/session"))
        .timeout(CALL_TIMEOUT)
        .header("origin", url)
        .json(&json!({"username": user, "password": password}))
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("sign-in as {user}: {}", r.status());
    }
    let cookie =
        cookie_named(&r, "phonghop_session").ok_or_else(|| anyhow!("sign-in gave no cookie"))?;
    Ok(Api {
        client: client.clone(),
        url: url.to_owned(),
        cookie,
    })
}

// ---------------------------------------------------------------------------------------------
// The live feed, as a tablet reads it.

/// One `id:`/`event:`/`data:` block of an SSE stream; comments (heartbeats) have no id.
fn parse_block(block: &str) -> Option<(u64, &str, &str)> {
    let (mut id, mut kind, mut data) = (None, "message", "");
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("id:") {
            id = v.trim().parse().ok();
        } else if let Some(v) = line.strip_prefix("event:") {
            kind = v.trim();
        } else if let Some(v) = line.strip_prefix("data:") {
            data = v.strip_prefix(' ').unwrap_or(v);
        }
    }
    Some((id?, kind, data))
}

#[derive(Default)]
struct FeedStats {
    /// Times the feed ended (or failed) and was opened again with `Last-Event-ID`.
    reconnects: u32,
    /// Non-200 answers and transport errors, by text.
    errors: Vec<String>,
}

/// Holds `path` open until `stop`, resuming after the last event seen when it breaks, as the
/// web app does. Calls `on_event(seq, kind, data, arrived)` for each event; `opened` fires once
/// the first answer is 200 (the feed is subscribed from then on).
async fn hold_feed(
    api: Api,
    path: String,
    mut on_event: impl FnMut(u64, &str, &str, Instant) + Send,
    opened: tokio::sync::oneshot::Sender<Result<(), String>>,
    mut stop: watch::Receiver<bool>,
) -> FeedStats {
    let mut stats = FeedStats::default();
    let mut opened = Some(opened);
    let mut last: Option<u64> = None;
    let url = format!("{}{path}", api.url);
    loop {
        if *stop.borrow() {
            break;
        }
        let mut req = api
            .client
            .get(&url)
            .header("accept", "text/event-stream")
            .header("cookie", &api.cookie);
        if let Some(l) = last {
            req = req.header("last-event-id", l.to_string());
        }
        let resp = tokio::select! {
            r = req.send() => r,
            _ = stop.changed() => break,
        };
        let mut resp = match resp {
            Ok(r) if r.status() == StatusCode::OK => r,
            Ok(r) => {
                let e = format!("feed answered {}", r.status());
                if let Some(o) = opened.take() {
                    let _ = o.send(Err(e));
                    return stats;
                }
                stats.errors.push(e);
                stats.reconnects += 1;
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
            Err(e) => {
                let e = format!("feed request failed: {e}");
                if let Some(o) = opened.take() {
                    let _ = o.send(Err(e));
                    return stats;
                }
                stats.errors.push(e);
                stats.reconnects += 1;
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        if let Some(o) = opened.take() {
            let _ = o.send(Ok(()));
        }
        let mut buf: Vec<u8> = Vec::new();
        loop {
            let chunk = tokio::select! {
                c = resp.chunk() => c,
                _ = stop.changed() => return stats,
            };
            let Ok(Some(bytes)) = chunk else { break };
            let arrived = Instant::now();
            buf.extend_from_slice(&bytes);
            let mut start = 0;
            while let Some(end) = buf[start..].windows(2).position(|w| w == b"\n\n") {
                let block = &buf[start..start + end];
                if let Some((seq, kind, data)) =
                    std::str::from_utf8(block).ok().and_then(parse_block)
                {
                    last = Some(seq);
                    on_event(seq, kind, data, arrived);
                }
                start += end + 2;
            }
            buf.drain(..start);
        }
        if *stop.borrow() {
            break;
        }
        stats.reconnects += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stats
}

/// What one tablet saw: when each event (other than others' requests to speak) arrived.
#[derive(Default)]
struct Seen {
    arrivals: HashMap<u64, Instant>,
    events: u64,
}

/// The chair's own feed: every event with its body, to find which seq an action became.
#[derive(Default)]
struct RefLog {
    events: Mutex<Vec<(u64, String, Value)>>,
}

impl RefLog {
    /// The last seq the chair's feed has shown.
    fn head(&self) -> u64 {
        self.events
            .lock()
            .ok()
            .and_then(|e| e.last().map(|(s, _, _)| *s))
            .unwrap_or(0)
    }

    /// The seq of the first event after `after` of `kind` whose body satisfies `pred`.
    async fn wait_for(
        &self,
        after: u64,
        kind: &str,
        pred: impl Fn(&Value) -> bool,
        timeout: Duration,
    ) -> Result<u64> {
        let until = Instant::now() + timeout;
        loop {
            if let Ok(ev) = self.events.lock() {
                if let Some((seq, _, _)) = ev
                    .iter()
                    .find(|(s, k, v)| *s > after && k == kind && pred(&v["body"]))
                {
                    return Ok(*seq);
                }
            }
            if Instant::now() > until {
                bail!("no {kind} event on the chair's feed within {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tablets.

struct Tablet {
    api: Api,
    seen: Mutex<Seen>,
    /// The person it is paired to, and its device key (for signing ballots).
    person: String,
    key: SigningKey,
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// A PIN the box accepts as strong enough: not all one digit, not a run up or down.
fn random_pin() -> String {
    let mut rng = rand::thread_rng();
    loop {
        let pin: String = (0..6)
            .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
            .collect();
        let b = pin.as_bytes();
        let same = b.iter().all(|c| *c == b[0]);
        let run = |d: i16| b.windows(2).all(|w| i16::from(w[1]) - i16::from(w[0]) == d);
        if !same && !run(1) && !run(-1) {
            return pin;
        }
    }
}

#[derive(Default)]
struct Tally(Mutex<BTreeMap<String, usize>>);

impl Tally {
    fn add(&self, what: impl Into<String>) {
        if let Ok(mut t) = self.0.lock() {
            *t.entry(what.into()).or_default() += 1;
        }
    }
    fn snapshot(&self) -> BTreeMap<String, usize> {
        self.0.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

/// Pairs tablet `n` to `person` through the real path, then checks it in. Returns the tablet
/// and how long pairing itself (POST /api/devices/pair, with retries) took.
#[allow(clippy::too_many_arguments)]
async fn pair_one(
    n: usize,
    pem: &[u8],
    url: &str,
    node: &str,
    secretary: &Api,
    person: String,
    meeting: &str,
    retries: &Tally,
) -> Result<(Tablet, Duration)> {
    let code_v = secretary
        .ok(
            Method::POST,
            &format!("/api/people/{person}/pairing-code"),
            None,
        )
        .await?;
    // The QR link's form, as the tablet's camera reads it: …/pair?code=<22 digits>.
    let code = code_v["url"]
        .as_str()
        .and_then(|u| u.split("code=").nth(1))
        .map(|c| c.split('&').next().unwrap_or(c).to_owned())
        .ok_or_else(|| anyhow!("pairing code answer without a link: {code_v}"))?;
    let key = SigningKey::random(&mut rand::rngs::OsRng);
    let sig: Signature = key.sign(format!("phonghop-pair:{node}:{code}").as_bytes());
    let person_id = person.clone();
    let body = json!({
        "code": code,
        "pin": random_pin(),
        "label": format!("Máy tính bảng số {}", n + 1),
        "public_key": b64(key.verifying_key().to_encoded_point(false).as_bytes()),
        "signature": b64(&sig.to_bytes()),
    });
    let http = client(pem, Some(tablet_addr(n)))?;
    let t0 = Instant::now();
    let mut tries = 0;
    let cookie = loop {
        tries += 1;
        let r = http
            .post(format!("{url}/api/devices/pair"))
            .timeout(CALL_TIMEOUT)
            .header("origin", url)
            .json(&body)
            .send()
            .await?;
        let status = r.status();
        if status == StatusCode::CREATED {
            break cookie_named(&r, "phonghop_device")
                .ok_or_else(|| anyhow!("pairing gave no device cookie"))?;
        }
        let v: Value = r.json().await.unwrap_or_default();
        // The argon2 gate is full: the box asks to come back in a moment.
        if (status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE)
            && tries < 50
        {
            retries.add(format!(
                "{} {}",
                status.as_u16(),
                v["code"].as_str().unwrap_or("")
            ));
            let pause = 100 + rand::thread_rng().gen_range(0..200);
            tokio::time::sleep(Duration::from_millis(pause)).await;
            continue;
        }
        bail!("pairing tablet {n}: {status}: {v}");
    };
    let took = t0.elapsed();
    let api = Api {
        client: http,
        url: url.to_owned(),
        cookie,
    };
    api.ok(
        Method::POST,
        &format!("/api/meetings/{meeting}/check-in"),
        None,
    )
    .await
    .with_context(|| format!("tablet {n} checking in"))?;
    Ok((
        Tablet {
            api,
            seen: Mutex::new(Seen::default()),
            person: person_id,
            key,
        },
        took,
    ))
}

// ---------------------------------------------------------------------------------------------
// Voting (issue 10).

/// The SHA-256 (hex) of 32 random bytes: a secret ballot's receipt, as the tablet makes it.
fn new_receipt() -> String {
    use sha2::Digest;
    let mut b = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut b);
    hex::encode(sha2::Sha256::digest(b))
}

/// One vote with every tablet voting at once: prepare, open, N signed ballots sent together
/// over HTTPS, close; then the signed record is checked against what was sent.
#[allow(clippy::too_many_arguments)]
async fn vote_round(
    secrecy: &str,
    sec: &Api,
    chair: &Api,
    d: &mut Driver,
    tablets: &[Arc<Tablet>],
    node: &str,
    meeting: &str,
    item: &str,
    pid: Option<u32>,
) -> Result<Value> {
    let n = tablets.len();
    let q = sec
        .ok(
            Method::POST,
            &format!("/api/meetings/{meeting}/questions"),
            Some(json!({"item_id": item, "title": format!("Biểu quyết đo tải ({secrecy})"), "secrecy": secrecy})),
        )
        .await?;
    let qid = q["question"]["question"]["id"]
        .as_str()
        .ok_or_else(|| anyhow!("no question id in {q}"))?
        .to_owned();
    let opened = d
        .act(
            &format!("open vote ({secrecy})"),
            Method::POST,
            &format!("/api/meetings/{meeting}/questions/{qid}/open"),
            json!({}),
            "vote.opened",
            |b| b["question_id"] == qid.as_str(),
        )
        .await?;
    let nonce = opened["question"]["nonce"]
        .as_str()
        .ok_or_else(|| anyhow!("the opened question has no nonce: {opened}"))?
        .to_owned();
    // Every tablet signs first (WebCrypto's work on the tablet, not the box's), then all send.
    let choices = ["approve", "disapprove", "abstain"];
    let mut sent: HashMap<String, String> = HashMap::with_capacity(n);
    let mut bodies = Vec::with_capacity(n);
    for (i, t) in tablets.iter().enumerate() {
        let choice = choices[i % 3];
        let (key, text, body) = if secrecy == "secret" {
            let r = new_receipt();
            let text = format!(
                "phonghop-participation/1|{node}|{meeting}|{qid}|{nonce}|{}",
                t.person
            );
            (
                r.clone(),
                text,
                json!({"receipt": r, "mark": {"choice": choice}}),
            )
        } else {
            let id = hex16();
            let text = format!("phonghop-ballot/1|{node}|{meeting}|{qid}|{nonce}|{id}|{choice}");
            (
                id.clone(),
                text,
                json!({"ballot_id": id, "mark": {"choice": choice}}),
            )
        };
        let sig: Signature = t.key.sign(text.as_bytes());
        let mut body = body;
        body["signature"] = json!(b64(&sig.to_bytes()));
        sent.insert(key, choice.to_owned());
        bodies.push(body);
    }
    let cpu0 = pid.and_then(cpu_seconds);
    let path = format!("/api/meetings/{meeting}/questions/{qid}/ballots");
    let t0 = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for (t, body) in tablets.iter().zip(bodies) {
        let (t, path) = (t.clone(), path.clone());
        tasks.push(tokio::spawn(async move {
            let s = Instant::now();
            let a = t.api.call(Method::POST, &path, Some(&body)).await;
            (a, s.elapsed(), s)
        }));
    }
    let answers = Tally::default();
    let mut lat = Vec::with_capacity(n);
    let mut last_done = t0;
    for task in tasks {
        let (a, took, started) = task.await?;
        last_done = last_done.max(started + took);
        lat.push(ms(took));
        match a {
            Ok((s, v)) => answers.add(
                format!("{} {}", s.as_u16(), v["code"].as_str().unwrap_or(""))
                    .trim_end()
                    .to_owned(),
            ),
            Err(e) => answers.add(format!("error {e}")),
        }
    }
    let wall = last_done.duration_since(t0).as_secs_f64();
    let cpu = match (cpu0, pid.and_then(cpu_seconds)) {
        (Some(x), Some(y)) => Some(y - x),
        _ => None,
    };
    lat.sort_by(f64::total_cmp);
    let accepted = answers.snapshot().get("200").copied().unwrap_or(0);
    // A moment for the last "N have voted" to go out, then the close.
    tokio::time::sleep(Duration::from_millis(500)).await;
    d.act(
        &format!("close vote ({secrecy})"),
        Method::POST,
        &format!("/api/meetings/{meeting}/questions/{qid}/close"),
        json!({}),
        "vote.closed",
        |b| b["question_id"] == qid.as_str(),
    )
    .await?;
    let (close_seq, close_sent) = d
        .actions
        .last()
        .map(|x| (x.seq, x.sent))
        .ok_or_else(|| anyhow!("no close action"))?;
    // Close → result on every tablet.
    let until = Instant::now() + Duration::from_secs(10);
    let mut arrivals;
    loop {
        arrivals = tablets
            .iter()
            .filter_map(|t| {
                t.seen
                    .lock()
                    .ok()
                    .and_then(|s| s.arrivals.get(&close_seq).copied())
            })
            .map(|at| ms(at.saturating_duration_since(close_sent)))
            .collect::<Vec<f64>>();
        if arrivals.len() == n || Instant::now() > until {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    arrivals.sort_by(f64::total_cmp);
    // The signed record against what was sent.
    let res = chair
        .ok(
            Method::GET,
            &format!("/api/meetings/{meeting}/questions/{qid}/result"),
            None,
        )
        .await?;
    let rec = &res["record"];
    let (listed, key) = if secrecy == "secret" {
        (&rec["receipts"], "receipt")
    } else {
        (&rec["ballots"], "id")
    };
    let listed = listed.as_array().cloned().unwrap_or_default();
    let mut recorded: HashMap<String, String> = HashMap::new();
    let mut duplicates = 0usize;
    for b in &listed {
        let k = b[key].as_str().unwrap_or_default().to_owned();
        let c = b["mark"]["choice"].as_str().unwrap_or_default().to_owned();
        if recorded.insert(k, c).is_some() {
            duplicates += 1;
        }
    }
    let voters: std::collections::HashSet<&str> = rec["voters"]
        .as_array()
        .map(|v| v.iter().filter_map(|x| x["person_id"].as_str()).collect())
        .unwrap_or_default();
    let exact = recorded == sent && duplicates == 0 && voters.len() == n;
    Ok(json!({
        "secrecy": secrecy,
        "ballots_sent": n,
        "answers": answers.snapshot(),
        "accepted": accepted,
        "send_all_s": wall,
        "accepted_per_s": accepted as f64 / wall.max(1e-9),
        "ballot_ms": {"p50": pct(&lat, 0.5), "p99": pct(&lat, 0.99), "max": lat.last().copied().unwrap_or(0.0)},
        "box_cpu_s_ballots": cpu,
        "close_to_result_ms": {
            "tablets": arrivals.len(),
            "p50": pct(&arrivals, 0.5),
            "p99": pct(&arrivals, 0.99),
            "max": arrivals.last().copied().unwrap_or(0.0),
        },
        "record": {"listed": listed.len(), "duplicates": duplicates, "voters": voters.len(), "outcome": rec["outcome"].clone()},
        "counted_exactly_once": exact,
    }))
}

// ---------------------------------------------------------------------------------------------
// Figures.

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One chair (or secretary) action of the measured phase.
struct Action {
    label: String,
    sent: Instant,
    acked: Duration,
    seq: u64,
}

struct Driver {
    /// Who runs the meeting: the chair (live API) or the secretary (attendance).
    actor: Api,
    reflog: Arc<RefLog>,
    last_seq: u64,
    actions: Vec<Action>,
}

impl Driver {
    /// Sends one action and finds the event it became on the chair's feed.
    async fn act(
        &mut self,
        label: &str,
        method: Method,
        path: &str,
        body: Value,
        kind: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> Result<Value> {
        // Only an event the chair's feed has not shown yet can be this action's.
        let floor = self.reflog.head().max(self.last_seq);
        let sent = Instant::now();
        let v = self.actor.ok(method, path, Some(body)).await?;
        let acked = sent.elapsed();
        let seq = self
            .reflog
            .wait_for(floor, kind, pred, Duration::from_secs(30))
            .await
            .with_context(|| format!("after {label}"))?;
        self.last_seq = seq;
        self.actions.push(Action {
            label: label.to_owned(),
            sent,
            acked,
            seq,
        });
        Ok(v)
    }
}

fn hex16() -> String {
    let mut b = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut b);
    hex::encode(b)
}

/// What a connection and a feed cost the box, without meetings or people: N tablets' worth of
/// HTTPS connections (one request each, then held), then a room feed on each.
async fn connections_only(a: &Args, pem: &[u8]) -> Result<()> {
    let pid = a
        .pid
        .ok_or_else(|| anyhow!("--connections-only needs --pid"))?;
    let rss = || status_kib(pid, "VmRSS").unwrap_or(0) as f64 / 1024.0;
    let r0 = rss();
    let mut clients = Vec::with_capacity(a.tablets);
    for i in 0..a.tablets {
        let c = client(pem, Some(tablet_addr(i)))?;
        c.get(format!("{}/api/room", a.url))
            .timeout(CALL_TIMEOUT)
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        clients.push(c);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let r1 = rss();
    let mut feeds = Vec::with_capacity(a.tablets);
    for c in &clients {
        let r = c
            .get(format!("{}/api/room/events", a.url))
            .header("accept", "text/event-stream")
            .send()
            .await?
            .error_for_status()?;
        feeds.push(r);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let r2 = rss();
    let per = |d: f64| d * 1024.0 / a.tablets as f64;
    println!(
        "RSS: {r0:.0} MiB at start; {r1:.0} MiB with {} HTTPS (HTTP/2) connections held ({:.1} KiB each); {r2:.0} MiB with a room feed open on each ({:.1} KiB a feed)",
        a.tablets,
        per(r1 - r0),
        per(r2 - r1)
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------

#[tokio::main]
async fn main() -> Result<()> {
    let a = parse_args()?;
    let pem = std::fs::read(&a.ca).with_context(|| format!("reading {}", a.ca))?;
    let pem: Arc<[u8]> = pem.into();
    let n = a.tablets;
    if a.connections_only {
        return connections_only(&a, &pem).await;
    }
    let staff = client(&pem, None)?;
    let sec = sign_in(&staff, &a.url, &a.secretary.0, &a.secretary.1).await?;
    // The chair works from another machine: its own connection.
    let chair = sign_in(&client(&pem, None)?, &a.url, &a.chair.0, &a.chair.1).await?;
    let node = sec.ok(Method::GET, "/api/room", None).await?["node_id"]
        .as_str()
        .ok_or_else(|| anyhow!("/api/room has no node_id"))?
        .to_owned();

    // 1. People, body, meeting, agenda, a document; the review publishes it.
    let t_setup = Instant::now();
    eprintln!("creating {} people …", n + 1);
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (sec, next) = (sec.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i > n {
                    return Ok::<_, anyhow::Error>(ids);
                }
                let v = sec
                    .ok(
                        Method::POST,
                        "/api/people",
                        Some(json!({"name": format!("Đại biểu Số {}", i + 1), "position": "Đại biểu"})),
                    )
                    .await?;
                ids.push((i, id_of(&v)?));
            }
        }));
    }
    let mut people = Vec::with_capacity(n + 1);
    for t in tasks {
        people.extend(t.await??);
    }
    people.sort();
    let people: Vec<String> = people.into_iter().map(|(_, id)| id).collect();
    let body = id_of(
        &sec.ok(
            Method::POST,
            "/api/bodies",
            Some(json!({"name": "HĐND xã (đo tải)", "kind": "hdnd"})),
        )
        .await?,
    )?;
    sec.ok(
        Method::PUT,
        &format!("/api/bodies/{body}/members"),
        Some(json!({"members": people})),
    )
    .await?;
    let meeting = id_of(
        &sec.ok(
            Method::POST,
            "/api/meetings",
            Some(json!({"body_id": body, "title": format!("Kỳ họp đo tải, {n} máy tính bảng"), "starts_at": "2027-01-05T01:00:00Z"})),
        )
        .await?,
    )?;
    let mut items = Vec::new();
    for t in [
        "Báo cáo kinh tế - xã hội",
        "Tờ trình dự toán",
        "Chất vấn và trả lời chất vấn",
    ] {
        items.push(id_of(
            &sec.ok(
                Method::POST,
                &format!("/api/meetings/{meeting}/items"),
                Some(json!({"title": t, "presenter": "Chủ tịch UBND xã", "duration_minutes": 30})),
            )
            .await?,
        )?);
    }
    let doc = {
        let r = sec
            .client
            .post(format!(
                "{}/api/meetings/{meeting}/items/{}/documents?title=T%E1%BB%9D%20tr%C3%ACnh",
                a.url, items[0]
            ))
            .timeout(CALL_TIMEOUT)
            .header("origin", &a.url)
            .header("cookie", &sec.cookie)
            .header("x-file-name", "to-trinh.pdf")
            .body(PDF)
            .send()
            .await?;
        let s = r.status();
        let v: Value = r.json().await.unwrap_or_default();
        if s != StatusCode::CREATED {
            bail!("uploading the document: {s}: {v}");
        }
        id_of(&v)?
    };
    for (who, step) in [(&sec, "submit"), (&chair, "approve"), (&sec, "publish")] {
        who.ok(
            Method::POST,
            &format!("/api/meetings/{meeting}/{step}"),
            None,
        )
        .await?;
    }
    let setup_secs = t_setup.elapsed().as_secs_f64();

    // 2. Pairing and check-in, a few at a time (argon2 per PIN on the box).
    eprintln!(
        "pairing {n} tablets, {} at a time, from {} loopback addresses …",
        a.pair_concurrency,
        ADDRESSES.min(n)
    );
    let t_pair = Instant::now();
    let gate = Arc::new(Semaphore::new(a.pair_concurrency));
    let retries = Arc::new(Tally::default());
    let node: Arc<str> = node.into();
    let meeting_a: Arc<str> = meeting.clone().into();
    let mut tasks = Vec::new();
    for (i, person) in people.iter().take(n).cloned().enumerate() {
        let (gate, retries, pem, sec, node, meeting, url) = (
            gate.clone(),
            retries.clone(),
            pem.clone(),
            sec.clone(),
            node.clone(),
            meeting_a.clone(),
            a.url.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let _p = gate.acquire_owned().await?;
            pair_one(i, &pem, &url, &node, &sec, person, &meeting, &retries).await
        }));
    }
    let mut tablets = Vec::with_capacity(n);
    let mut pair_lat = Vec::with_capacity(n);
    for t in tasks {
        let (tab, took) = t.await??;
        tablets.push(Arc::new(tab));
        pair_lat.push(ms(took));
    }
    let pair_secs = t_pair.elapsed().as_secs_f64();
    pair_lat.sort_by(f64::total_cmp);
    eprintln!(
        "paired and checked in {n} tablets in {pair_secs:.1} s (pairing call p50 {:.0} ms, p99 {:.0} ms)",
        pct(&pair_lat, 0.5),
        pct(&pair_lat, 0.99)
    );

    let rss_paired = a.pid.and_then(|p| status_kib(p, "VmRSS")).unwrap_or(0);

    // 3. Everyone opens the meeting's feed: the chair's (the reference) and every tablet's.
    let (stop_tx, stop_rx) = watch::channel(false);
    let feed_path = format!("/api/meetings/{meeting}/events");
    let reflog = Arc::new(RefLog::default());
    let (otx, orx) = tokio::sync::oneshot::channel();
    let chair_feed = {
        let log = reflog.clone();
        tokio::spawn(hold_feed(
            chair.clone(),
            feed_path.clone(),
            move |seq, kind, data, _| {
                let v: Value = serde_json::from_str(data).unwrap_or_default();
                if let Ok(mut e) = log.events.lock() {
                    e.push((seq, kind.to_owned(), v));
                }
            },
            otx,
            stop_rx.clone(),
        ))
    };
    orx.await?.map_err(|e| anyhow!("chair's feed: {e}"))?;
    let t_feeds = Instant::now();
    let open_gate = Arc::new(Semaphore::new(64));
    let mut feeds = Vec::with_capacity(n);
    let mut opens = Vec::with_capacity(n);
    for t in &tablets {
        let (otx, orx) = tokio::sync::oneshot::channel();
        let t2 = t.clone();
        let permit = open_gate.clone().acquire_owned().await?;
        feeds.push(tokio::spawn(hold_feed(
            t.api.clone(),
            feed_path.clone(),
            move |seq, kind, _, arrived| {
                if let Ok(mut s) = t2.seen.lock() {
                    s.events += 1;
                    // Others' requests to speak are load, not measured actions.
                    if kind != "speech.requested" {
                        s.arrivals.insert(seq, arrived);
                    }
                }
            },
            otx,
            stop_rx.clone(),
        )));
        opens.push(tokio::spawn(async move {
            let r = orx.await;
            drop(permit);
            r
        }));
    }
    for o in opens {
        o.await??.map_err(|e| anyhow!("a tablet's feed: {e}"))?;
    }
    let feeds_secs = t_feeds.elapsed().as_secs_f64();
    eprintln!("{n} feeds open in {feeds_secs:.1} s");
    // What the open feeds cost with nothing happening (their periodic re-checks).
    let idle_cpu0 = a.pid.and_then(cpu_seconds);
    let t_idle = Instant::now();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let idle_cores = match (idle_cpu0, a.pid.and_then(cpu_seconds)) {
        (Some(x), Some(y)) => Some((y - x) / t_idle.elapsed().as_secs_f64()),
        _ => None,
    };

    // Live-meeting API present? (Before issue 9 the box answers 404.)
    let (live_status, _) = chair
        .call(Method::GET, &format!("/api/meetings/{meeting}/live"), None)
        .await?;
    let live = live_status == StatusCode::OK;

    // 4. The measured phase.
    let rss_idle = a.pid.and_then(|p| status_kib(p, "VmRSS")).unwrap_or(0);
    let cpu0 = a.pid.and_then(cpu_seconds);
    let own_cpu0 = cpu_seconds(std::process::id());
    let sampler = RssSampler::start(a.pid);
    let t_measure = Instant::now();
    let speak_tally = Arc::new(Tally::default());
    let speak_lat = Arc::new(Mutex::new(Vec::<f64>::new()));
    let mut speakers = Vec::new();
    let mut d = Driver {
        actor: if live { chair.clone() } else { sec.clone() },
        reflog: reflog.clone(),
        last_seq: 0,
        actions: Vec::new(),
    };
    let m = &meeting;
    let per_round = ((n as f64 * a.speak).ceil() as usize).min(n);
    eprintln!(
        "measuring: {} rounds, {} ms apart, {} ({})",
        if a.vote { 0 } else { a.rounds },
        a.interval.as_millis(),
        if a.vote {
            "chair: start; a named and a secret vote, every tablet voting at once"
        } else if live {
            "chair: start, open item, floor, follow me, end speech; tablets ask to speak"
        } else {
            "no live-meeting API on this box: the secretary marks attendance; no requests to speak"
        },
        if live {
            format!("{per_round} requests to speak a round")
        } else {
            "background: none".to_owned()
        }
    );
    if live {
        d.act(
            "start",
            Method::POST,
            &format!("/api/meetings/{m}/live/start"),
            json!({}),
            "meeting.started",
            |_| true,
        )
        .await?;
        // Opening the meeting also opens its first item (one more event, not timed).
    }
    let extra = people[n].clone();
    let mut current_item = 0;
    let mut votes = Vec::new();
    if a.vote {
        if !live {
            bail!("--vote needs a box with the live-meeting and voting API");
        }
        for secrecy in ["named", "secret"] {
            let v = vote_round(
                secrecy, &sec, &chair, &mut d, &tablets, &node, m, &items[0], a.pid,
            )
            .await?;
            votes.push(v);
        }
    }
    let rounds = if a.vote { 0 } else { a.rounds };
    for r in 0..rounds {
        if live {
            // A few tablets ask to speak at random moments of this round.
            for _ in 0..per_round {
                let t = tablets[rand::thread_rng().gen_range(0..n)].clone();
                let (tally, lat, m) = (speak_tally.clone(), speak_lat.clone(), m.clone());
                let retry = a.retry_speak;
                let delay =
                    rand::thread_rng().gen_range(0..(a.interval.as_millis() as u64 * 3).max(1));
                speakers.push(tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    let kind = ["opinion", "opinion", "question", "procedural"]
                        [rand::thread_rng().gen_range(0..4)];
                    let body = json!({"request_id": hex16(), "kind": kind});
                    let path = format!("/api/meetings/{m}/live/speakers");
                    let t0 = Instant::now();
                    let mut answer = t.api.call(Method::POST, &path, Some(&body)).await;
                    if retry && answer.is_ok() {
                        answer = t.api.call(Method::POST, &path, Some(&body)).await;
                    }
                    match answer {
                        Ok((s, v)) => {
                            if let Ok(mut l) = lat.lock() {
                                l.push(ms(t0.elapsed()));
                            }
                            tally.add(
                                format!("{} {}", s.as_u16(), v["code"].as_str().unwrap_or(""))
                                    .trim_end()
                                    .to_owned(),
                            );
                        }
                        Err(e) => tally.add(format!("error {e}")),
                    }
                }));
            }
            tokio::time::sleep(a.interval).await;
            let view = chair
                .ok(Method::GET, &format!("/api/meetings/{m}/live"), None)
                .await?;
            let cur = view["item"]["item_id"].clone();
            let head = view["queue"]
                .as_array()
                .and_then(|q| q.iter().find(|e| e["item_id"] == cur))
                .and_then(|e| e["id"].as_str())
                .map(str::to_owned);
            if let Some(rid) = &head {
                d.act(
                    "give the floor",
                    Method::POST,
                    &format!("/api/meetings/{m}/live/speakers/{rid}/floor"),
                    json!({}),
                    "speech.started",
                    |b| b["request_id"] == rid.as_str(),
                )
                .await?;
            }
            tokio::time::sleep(a.interval).await;
            let page = 1 + r % 3;
            d.act(
                "follow me",
                Method::PUT,
                &format!("/api/meetings/{m}/live/follow"),
                json!({"document_id": doc, "page": page}),
                "follow.set",
                |b| b["page"] == page,
            )
            .await?;
            tokio::time::sleep(a.interval).await;
            if let Some(rid) = &head {
                d.act(
                    "end speech",
                    Method::POST,
                    &format!("/api/meetings/{m}/live/floor/end"),
                    json!({}),
                    "speech.ended",
                    |b| b["request_id"] == rid.as_str(),
                )
                .await?;
            }
            if r % 5 == 4 {
                tokio::time::sleep(a.interval).await;
                current_item = (current_item + 1) % items.len();
                let it = items[current_item].clone();
                d.act(
                    "open item",
                    Method::POST,
                    &format!("/api/meetings/{m}/live/item"),
                    json!({"item_id": it}),
                    "agenda.item_opened",
                    |b| b["item_id"] == it.as_str(),
                )
                .await?;
            }
        } else {
            for status in ["present", "left_early", "present"] {
                tokio::time::sleep(a.interval).await;
                d.act(
                    "mark attendance",
                    Method::PUT,
                    &format!("/api/meetings/{m}/attendance/{extra}"),
                    json!({"status": status}),
                    "attendance.marked",
                    |b| b["person_id"] == extra.as_str() && b["status"] == status,
                )
                .await?;
            }
        }
    }
    if live && !a.vote {
        tokio::time::sleep(a.interval).await;
        d.act(
            "end meeting",
            Method::POST,
            &format!("/api/meetings/{m}/live/end"),
            json!({}),
            "meeting.ended",
            |_| true,
        )
        .await?;
    }
    for s in speakers {
        let _ = s.await;
    }
    // Let every tablet catch up (or show that it never does).
    let wanted: Vec<u64> = d.actions.iter().map(|x| x.seq).collect();
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let all = tablets.iter().all(|t| {
            t.seen
                .lock()
                .map(|s| wanted.iter().all(|q| s.arrivals.contains_key(q)))
                .unwrap_or(false)
        });
        if all || Instant::now() > until {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let measure_secs = t_measure.elapsed().as_secs_f64();
    let box_cpu = match (cpu0, a.pid.and_then(cpu_seconds)) {
        (Some(x), Some(y)) => Some(y - x),
        _ => None,
    };
    let own_cpu = match (own_cpu0, cpu_seconds(std::process::id())) {
        (Some(x), Some(y)) => Some(y - x),
        _ => None,
    };
    let rss_peak = sampler.stop();
    let _ = stop_tx.send(true);
    let mut reconnects = 0u64;
    let feed_errors = Tally::default();
    for f in feeds {
        if let Ok(s) = f.await {
            reconnects += u64::from(s.reconnects);
            for e in s.errors {
                feed_errors.add(e);
            }
        }
    }
    let _ = chair_feed.await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = a.pid.and_then(|p| status_kib(p, "VmRSS")).unwrap_or(0);
    let rss_hwm = a.pid.and_then(|p| status_kib(p, "VmHWM")).unwrap_or(0);

    // Figures.
    let mut lat = Vec::with_capacity(d.actions.len() * n);
    let mut all_tablets = Vec::with_capacity(d.actions.len());
    let mut missed_pairs = 0usize;
    let mut missed_tablets = 0usize;
    let mut events_seen = 0u64;
    let mut by_label: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for t in &tablets {
        let s = t.seen.lock().map_err(|_| anyhow!("poisoned"))?;
        events_seen += s.events;
        let mut missed_here = false;
        for x in &d.actions {
            match s.arrivals.get(&x.seq) {
                Some(at) => {
                    let l = ms(at.saturating_duration_since(x.sent));
                    lat.push(l);
                    by_label.entry(x.label.clone()).or_default().push(l);
                }
                None => {
                    missed_pairs += 1;
                    missed_here = true;
                }
            }
        }
        if missed_here {
            missed_tablets += 1;
        }
    }
    for x in &d.actions {
        let worst = tablets
            .iter()
            .filter_map(|t| {
                t.seen.lock().ok().and_then(|s| {
                    s.arrivals
                        .get(&x.seq)
                        .map(|at| ms(at.saturating_duration_since(x.sent)))
                })
            })
            .fold(0f64, f64::max);
        all_tablets.push(worst);
    }
    lat.sort_by(f64::total_cmp);
    all_tablets.sort_by(f64::total_cmp);
    let mut acks: Vec<f64> = d.actions.iter().map(|x| ms(x.acked)).collect();
    acks.sort_by(f64::total_cmp);
    let mut speak_l = speak_lat.lock().map(|l| l.clone()).unwrap_or_default();
    speak_l.sort_by(f64::total_cmp);
    let mib = |k: u64| k as f64 / 1024.0;

    let out = json!({
        "tablets": n,
        "live_api": live,
        "setup_s": setup_secs,
        "pairing": {
            "total_s": pair_secs,
            "per_tablet_s": pair_secs / n as f64,
            "call_p50_ms": pct(&pair_lat, 0.5),
            "call_p99_ms": pct(&pair_lat, 0.99),
            "retries": retries.snapshot(),
            "concurrency": a.pair_concurrency,
        },
        "feeds_open_s": feeds_secs,
        "box_cpu_cores_idle_feeds": idle_cores,
        "measured_s": measure_secs,
        "actions": d.actions.len(),
        "deliveries": lat.len(),
        "delivery_ms": {"p50": pct(&lat, 0.5), "p99": pct(&lat, 0.99), "max": lat.last().copied().unwrap_or(0.0)},
        "to_every_tablet_ms": {"p50": pct(&all_tablets, 0.5), "max": all_tablets.last().copied().unwrap_or(0.0)},
        "by_action": by_label.iter_mut().map(|(k, v)| {
            v.sort_by(f64::total_cmp);
            (k.clone(), json!({"p50": pct(v, 0.5), "p99": pct(v, 0.99), "max": v.last().copied().unwrap_or(0.0)}))
        }).collect::<serde_json::Map<_, _>>(),
        "action_ack_ms": {"p50": pct(&acks, 0.5), "p99": pct(&acks, 0.99), "max": acks.last().copied().unwrap_or(0.0)},
        "missed": {"pairs": missed_pairs, "tablets": missed_tablets},
        "feed_reconnects": reconnects,
        "feed_errors": feed_errors.snapshot(),
        "events_seen_by_tablets": events_seen,
        "speak_requests": {"answers": speak_tally.snapshot(), "p50_ms": pct(&speak_l, 0.5), "p99_ms": pct(&speak_l, 0.99)},
        "box_cpu_s": box_cpu,
        "box_cpu_cores": box_cpu.map(|c| c / measure_secs),
        "load_tool_cpu_s": own_cpu,
        "rss_mib": {"paired_no_feeds": mib(rss_paired), "idle": mib(rss_idle), "peak": mib(rss_peak), "after": mib(rss_after), "hwm": mib(rss_hwm)},
        "votes": votes,
    });
    if a.json {
        println!("{out}");
    } else {
        println!(
            "--- {n} tablets ({})",
            if live {
                "live-meeting API"
            } else {
                "attendance marks; no live-meeting API on this box"
            }
        );
        println!(
            "setup {setup_secs:.1} s; pairing + check-in {pair_secs:.1} s ({:.0} ms a tablet, {} at a time; pair call p50 {:.0} ms, p99 {:.0} ms; retries {:?}); feeds open in {feeds_secs:.1} s",
            pair_secs / n as f64 * 1000.0,
            a.pair_concurrency,
            pct(&pair_lat, 0.5),
            pct(&pair_lat, 0.99),
            retries.snapshot()
        );
        println!(
            "{:>7} {:>7} {:>10} {:>6} {:>8} {:>8} {:>8} {:>10} {:>9} {:>8} {:>22}",
            "tablets",
            "actions",
            "deliveries",
            "missed",
            "p50 ms",
            "p99 ms",
            "max ms",
            "all p50 ms",
            "CPU s",
            "cores",
            "RSS idle/peak/after MiB"
        );
        println!(
            "{:>7} {:>7} {:>10} {:>6} {:>8.1} {:>8.1} {:>8.1} {:>10.1} {:>9} {:>8} {:>22}",
            n,
            d.actions.len(),
            lat.len(),
            missed_pairs,
            pct(&lat, 0.5),
            pct(&lat, 0.99),
            lat.last().copied().unwrap_or(0.0),
            pct(&all_tablets, 0.5),
            box_cpu.map_or("-".into(), |c| format!("{c:.2}")),
            box_cpu.map_or("-".into(), |c| format!("{:.2}", c / measure_secs)),
            format!(
                "{:.0}/{:.0}/{:.0}",
                mib(rss_idle),
                mib(rss_peak),
                mib(rss_after)
            ),
        );
        for (k, v) in &by_label {
            println!(
                "  {k:16} {:>5} deliveries  p50 {:>7.1}  p99 {:>7.1}  max {:>7.1} ms",
                v.len(),
                pct(v, 0.5),
                pct(v, 0.99),
                v.last().copied().unwrap_or(0.0)
            );
        }
        println!(
            "measured phase {measure_secs:.1} s; action answered p50 {:.1} ms, p99 {:.1} ms; box CPU {}; load tool CPU {}",
            pct(&acks, 0.5),
            pct(&acks, 0.99),
            box_cpu.map_or("-".into(), |c| format!("{c:.2} s")),
            own_cpu.map_or("-".into(), |c| format!("{c:.2} s")),
        );
        println!(
            "tablets that missed an event: {missed_tablets} ({missed_pairs} deliveries); feed reconnects: {reconnects} {:?}; events seen by tablets: {events_seen}",
            feed_errors.snapshot()
        );
        if live {
            println!(
                "requests to speak: {:?}, answered p50 {:.1} ms, p99 {:.1} ms",
                speak_tally.snapshot(),
                pct(&speak_l, 0.5),
                pct(&speak_l, 0.99)
            );
        }
        println!(
            "box RSS once paired, before the feeds opened: {:.0} MiB; VmHWM (its peak over its whole life, pairing's argon2 included): {:.0} MiB",
            mib(rss_paired),
            mib(rss_hwm)
        );
        println!(
            "box CPU with the feeds open and no event, over 5 s: {} cores",
            idle_cores.map_or("-".into(), |c| format!("{c:.3}"))
        );
    }
    if !a.json {
        for v in &votes {
            println!(
                "vote ({}): {} ballots sent at once, answers {}; {:.0} accepted/s with signature verification ({:.2} s for all; ballot answered p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms; box CPU {} s)",
                v["secrecy"].as_str().unwrap_or(""),
                v["ballots_sent"],
                v["answers"],
                v["accepted_per_s"].as_f64().unwrap_or(0.0),
                v["send_all_s"].as_f64().unwrap_or(0.0),
                v["ballot_ms"]["p50"].as_f64().unwrap_or(0.0),
                v["ballot_ms"]["p99"].as_f64().unwrap_or(0.0),
                v["ballot_ms"]["max"].as_f64().unwrap_or(0.0),
                v["box_cpu_s_ballots"].as_f64().map_or("-".into(), |c| format!("{c:.2}")),
            );
            println!(
                "  close → result on every tablet ({} of {n} feeds): p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms; signed record lists {} (duplicates {}, voters {}); counted exactly once: {}",
                v["close_to_result_ms"]["tablets"],
                v["close_to_result_ms"]["p50"].as_f64().unwrap_or(0.0),
                v["close_to_result_ms"]["p99"].as_f64().unwrap_or(0.0),
                v["close_to_result_ms"]["max"].as_f64().unwrap_or(0.0),
                v["record"]["listed"],
                v["record"]["duplicates"],
                v["record"]["voters"],
                v["counted_exactly_once"],
            );
        }
    }
    if missed_pairs > 0 {
        eprintln!("FAIL: {missed_tablets} tablets missed an event");
        std::process::exit(2);
    }
    if votes.iter().any(|v| v["counted_exactly_once"] != true) {
        eprintln!("FAIL: a vote's signed record does not match the ballots sent");
        std::process::exit(2);
    }
    Ok(())
}
