//! The fault proxy itself (tests/support/faultproxy.rs), against a trivial echo server, and a
//! replayed TLS connection against a real box.

use crate::faultproxy::*;
use crate::helpers::*;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// An echo server that keeps, per connection, every byte it received.
struct Echo {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Vec<u8>>>>,
}

async fn echo() -> Echo {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let received = Arc::new(Mutex::new(Vec::new()));
    let rec = received.clone();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = l.accept().await.unwrap();
            let rec = rec.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                let mut buf = vec![0u8; 8192];
                loop {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            got.extend_from_slice(&buf[..n]);
                            if s.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    }
                }
                rec.lock().unwrap().push(got);
            });
        }
    });
    Echo { addr, received }
}

impl Echo {
    async fn connections(&self, n: usize) -> Vec<Vec<u8>> {
        let start = Instant::now();
        loop {
            let got = self.received.lock().unwrap().clone();
            if got.len() >= n {
                return got;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "echo saw {got:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

fn payload(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_be_bytes()[0] ^ seed)
        .collect()
}

/// Writes `data` while reading what comes back; returns what was read and how the read ended.
async fn exchange(addr: SocketAddr, data: &[u8]) -> (Vec<u8>, Result<(), std::io::ErrorKind>) {
    let s = TcpStream::connect(addr).await.unwrap();
    let (mut r, mut w) = s.into_split();
    let data = data.to_vec();
    let writer = tokio::spawn(async move {
        let _ = w.write_all(&data).await;
        let _ = w.shutdown().await;
        // Keep the half alive until the reader is done, so dropping it sends nothing.
        tokio::time::sleep(Duration::from_secs(3)).await;
    });
    let mut got = Vec::new();
    let mut buf = vec![0u8; 8192];
    let end = loop {
        match tokio::time::timeout(Duration::from_secs(10), r.read(&mut buf)).await {
            Ok(Ok(0)) => break Ok(()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Ok(Err(e)) => break Err(e.kind()),
            Err(_) => panic!("no end within 10 s"),
        }
    };
    writer.abort();
    (got, end)
}

#[tokio::test]
async fn a_clean_proxy_forwards_every_byte_and_counts_both_directions() {
    let e = echo().await;
    let p = FaultProxy::start(e.addr, Schedule::clean()).await.unwrap();
    let data = payload(1 << 20, 7);
    let (got, end) = exchange(p.addr(), &data).await;
    assert_eq!(end, Ok(()));
    assert!(got == data, "echoed bytes differ");
    assert_eq!(e.connections(1).await[0], data);
    let s = p.stats();
    assert_eq!((s.bytes_up, s.bytes_down), (1 << 20, 1 << 20));
    assert_eq!((s.accepted, s.cut, s.closed), (1, 0, 0));
}

#[tokio::test]
async fn a_cut_upward_passes_exactly_n_bytes_and_resets_the_client() {
    let e = echo().await;
    let plan = ConnPlan {
        cut: Some((Dir::Up, 100_003)),
        ..ConnPlan::default()
    };
    let p = FaultProxy::start(e.addr, Schedule::scripted(vec![plan]))
        .await
        .unwrap();
    let (got, end) = exchange(p.addr(), &payload(300_000, 1)).await;
    assert_eq!(end, Err(std::io::ErrorKind::ConnectionReset));
    assert!(got.len() <= 100_003);
    // Exactly N bytes were sent on; the reset makes the target's kernel drop what its reader
    // had not taken yet, so the target's reader sees a prefix of them, then the reset.
    assert_eq!(p.stats().bytes_up, 100_003);
    let at_target = &e.connections(1).await[0];
    assert!(at_target.len() <= 100_003);
    assert_eq!(at_target[..], payload(300_000, 1)[..at_target.len()]);
    assert_eq!(p.stats().cut, 1);
}

#[tokio::test]
async fn a_cut_downward_delivers_exactly_n_bytes_then_a_reset() {
    let e = echo().await;
    let plan = ConnPlan {
        cut: Some((Dir::Down, 50_001)),
        ..ConnPlan::default()
    };
    let p = FaultProxy::start(e.addr, Schedule::scripted(vec![plan]))
        .await
        .unwrap();
    let data = payload(200_000, 2);
    let (got, end) = exchange(p.addr(), &data).await;
    assert_eq!(end, Err(std::io::ErrorKind::ConnectionReset));
    assert_eq!(got.len(), 50_001);
    assert!(got[..] == data[..50_001]);
    // The next connection is clean.
    let (got, end) = exchange(p.addr(), &data).await;
    assert_eq!((got.len(), end), (data.len(), Ok(())));
}

#[tokio::test]
async fn a_clean_close_ends_with_eof_after_n_bytes() {
    let e = echo().await;
    let plan = ConnPlan {
        close: Some((Dir::Down, 40_000)),
        ..ConnPlan::default()
    };
    let p = FaultProxy::start(e.addr, Schedule::scripted(vec![plan]))
        .await
        .unwrap();
    let (got, end) = exchange(p.addr(), &payload(100_000, 3)).await;
    assert_eq!((got.len(), end), (40_000, Ok(())));
    assert_eq!((p.stats().closed, p.stats().cut), (1, 0));
}

#[tokio::test]
async fn a_reset_at_accept_reaches_nothing() {
    let e = echo().await;
    let plan = ConnPlan {
        reset_at_accept: true,
        ..ConnPlan::default()
    };
    let p = FaultProxy::start(e.addr, Schedule::scripted(vec![plan]))
        .await
        .unwrap();
    let (got, end) = exchange(p.addr(), b"hello").await;
    assert!(got.is_empty());
    assert_eq!(end, Err(std::io::ErrorKind::ConnectionReset));
    assert_eq!(p.stats().reset_at_accept, 1);
    // Only the clean second connection reaches the target.
    let _ = exchange(p.addr(), b"again").await;
    assert_eq!(e.connections(1).await, vec![b"again".to_vec()]);
}

#[tokio::test]
async fn an_outage_refuses_connections_then_the_port_opens_again() {
    let e = echo().await;
    let mut s = Schedule::clean();
    s.outages = vec![(Duration::ZERO, Duration::from_millis(600))];
    let p = FaultProxy::start(e.addr, s).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let err = TcpStream::connect(p.addr()).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (got, end) = exchange(p.addr(), b"back").await;
    assert_eq!((got, end), (b"back".to_vec(), Ok(())));
    assert_eq!(p.stats().refused_windows, 1);
}

#[tokio::test]
async fn throttle_and_delay_slow_a_connection_down() {
    let e = echo().await;
    let throttled = ConnPlan {
        throttle: Some(100_000),
        ..ConnPlan::default()
    };
    let delayed = ConnPlan {
        delay: Some(Delay {
            percent: 100,
            min_ms: 100,
            max_ms: 100,
        }),
        ..ConnPlan::default()
    };
    let p = FaultProxy::start(e.addr, Schedule::scripted(vec![throttled, delayed]))
        .await
        .unwrap();
    // 60 kB each way at 100 kB/s: at least 0.6 s, as both directions share no budget.
    let t = Instant::now();
    let (got, _) = exchange(p.addr(), &payload(60_000, 4)).await;
    assert_eq!(got.len(), 60_000);
    assert!(
        t.elapsed() >= Duration::from_millis(550),
        "{:?}",
        t.elapsed()
    );
    // Five round trips, each chunk held 100 ms up and 100 ms down.
    let mut s = TcpStream::connect(p.addr()).await.unwrap();
    let t = Instant::now();
    for i in 0..5u8 {
        s.write_all(&[i; 10]).await.unwrap();
        let mut back = [0u8; 10];
        s.read_exact(&mut back).await.unwrap();
        assert_eq!(back, [i; 10]);
    }
    assert!(
        t.elapsed() >= Duration::from_millis(1000),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn a_replay_sends_the_same_bytes_in_a_new_connection() {
    let e = echo().await;
    let auto = ConnPlan {
        replay: true,
        ..ConnPlan::default()
    };
    let p = FaultProxy::start(e.addr, Schedule::scripted(vec![ConnPlan::default(), auto]))
        .await
        .unwrap();
    let first = payload(70_000, 5);
    let _ = exchange(p.addr(), &first).await;
    let rec = loop {
        if let Some(r) = p.records().pop() {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(rec.up, 70_000);
    let out = p.replay(&rec, Duration::from_secs(5)).await.unwrap();
    assert_eq!(out.sent, 70_000);
    assert!(out.received == first && out.target_closed);
    // The second connection's plan replays it by itself.
    let second = payload(5_000, 6);
    let _ = exchange(p.addr(), &second).await;
    let seen = e.connections(4).await;
    assert_eq!(seen.iter().filter(|c| **c == first).count(), 2);
    assert_eq!(seen.iter().filter(|c| **c == second).count(), 2);
    assert_eq!(p.stats().replays, 2);
    assert_eq!(p.stats().bytes_up, 75_000, "replays are counted apart");
}

#[tokio::test]
async fn a_link_drop_resets_every_open_connection() {
    let e = echo().await;
    let mut s = Schedule::clean();
    s.drops = vec![Duration::from_millis(300)];
    let p = FaultProxy::start(e.addr, s).await.unwrap();
    let mut conns = Vec::new();
    for _ in 0..3 {
        let mut c = TcpStream::connect(p.addr()).await.unwrap();
        c.write_all(b"ping").await.unwrap();
        let mut back = [0u8; 4];
        c.read_exact(&mut back).await.unwrap();
        conns.push(c);
    }
    for mut c in conns {
        let mut buf = [0u8; 8];
        let r = tokio::time::timeout(Duration::from_secs(3), c.read(&mut buf))
            .await
            .expect("ended by the drop");
        assert_eq!(r.unwrap_err().kind(), std::io::ErrorKind::ConnectionReset);
    }
    // New connections pass; closing them all by hand ends them with EOF.
    let mut c = TcpStream::connect(p.addr()).await.unwrap();
    c.write_all(b"ping").await.unwrap();
    let mut back = [0u8; 4];
    c.read_exact(&mut back).await.unwrap();
    assert_eq!(p.close_all(), 1);
    assert_eq!(c.read(&mut back).await.unwrap(), 0);
}

#[test]
fn schedules_are_reproducible_from_the_seed_and_cover_every_fault() {
    assert_eq!(Schedule::random(42), Schedule::random(42));
    assert_eq!(Schedule::random(42).plan(3), Schedule::random(42).plan(3));
    let mut kinds = [0u32; 8];
    for seed in 0..300 {
        let s = Schedule::random(seed);
        assert!(s.plan(s.faulty_connections).is_clean());
        kinds[7] += (!s.outages.is_empty()) as u32;
        assert!(!s.drops.is_empty());
        for i in 0..s.faulty_connections {
            let p = s.plan(i);
            kinds[0] += p.reset_at_accept as u32;
            kinds[1] += matches!(p.cut, Some((Dir::Up, _))) as u32;
            kinds[2] += matches!(p.cut, Some((Dir::Down, _))) as u32;
            kinds[3] += p.close.is_some() as u32;
            kinds[4] += p.throttle.is_some() as u32;
            kinds[5] += p.delay.is_some() as u32;
            kinds[6] += p.replay as u32;
            if let Some((_, n)) = p.cut.or(p.close) {
                assert!(n <= s.max_cut);
            }
        }
    }
    assert!(kinds.iter().all(|k| *k > 10), "{kinds:?}");
}

#[tokio::test]
async fn a_replayed_tls_connection_is_refused_by_the_box_and_writes_nothing() {
    let b = TestBox::start().await;
    let admin = b.admin().await;
    let target: SocketAddr = ([127, 0, 0, 1], b.https_port).into();
    let p = FaultProxy::start(target, Schedule::clean()).await.unwrap();
    let origin = format!("https://127.0.0.1:{}", p.addr().port());
    let seq = {
        // One connection, closed when the client goes.
        let c = client_for(&b.dir, &b.local_name, p.addr().port());
        let r = c
            .post(format!("{origin}/api/room/notices"))
            .header("origin", &origin)
            .header("cookie", &admin)
            .json(&serde_json::json!({"text": "Họp lúc 8 giờ"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        r.json::<serde_json::Value>().await.unwrap()["seq"]
            .as_u64()
            .unwrap()
    };
    let rec = loop {
        if let Some(r) = p.records().pop() {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(rec.up > 500, "the request went through the proxy");
    let out = p.replay(&rec, Duration::from_secs(5)).await.unwrap();
    assert!(out.target_closed, "the box ends a replayed connection");
    // Nothing the replay carried took effect: the next notice is the very next event.
    let next = b.post_notice(&admin, "Họp lúc 9 giờ").await;
    assert_eq!(next, seq + 1, "the replayed request wrote nothing");
    // The box answered the replay with its handshake and an alert, never with more than a
    // handful of records (an HTTP answer would follow the handshake).
    let records = tls_records(&out.received);
    assert!(!records.is_empty() && records[0].0 == 22, "{records:?}");
    assert!(records.len() <= 8, "{records:?}");
}
