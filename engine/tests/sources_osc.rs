//! OSC over UDP on loopback: ingest rate without loss, malformed packets, presets.
//!
//! The ingest test prints the measured rate; see it with
//! `cargo test -p isochord-engine --release --test sources_osc -- --nocapture`.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use isochord_engine::biometrics::sources::{
    AddressMap, IssueKind, OscConfig, OscSource, SourceThread, ThreadOptions, WallClock,
};
use isochord_engine::biometrics::{SensorData, Value};
use rosc::{encoder, OscBundle, OscMessage, OscPacket, OscTime, OscType};

fn msg(addr: &str, args: Vec<OscType>) -> Vec<u8> {
    encoder::encode(&OscPacket::Message(OscMessage {
        addr: addr.into(),
        args,
    }))
    .unwrap()
}

fn bind(map: AddressMap) -> (OscSource, SocketAddr) {
    let config = OscConfig {
        map,
        ..OscConfig::hr_apps().with_port(0)
    };
    let source = OscSource::bind(&config, WallClock::start_now()).unwrap();
    let addr = source.local_addr();
    assert!(addr.ip().is_loopback());
    (source, addr)
}

const MESSAGES: usize = 50_000;

/// 50,000 messages sent as fast as the receiver takes them: the sender keeps at most a
/// window of messages in flight (sized from the receive buffer the kernel granted, so the
/// socket can never overflow whatever the scheduling), and every message must arrive.
#[test]
fn ingests_50k_messages_without_loss_at_over_10k_per_second() {
    let (source, addr) = bind(AddressMap::hr_apps());
    let granted = source.recv_buffer_size();
    // A small datagram costs the socket about 1 KiB of buffer on Linux loopback; keep
    // half the buffer free.
    let window = (granted / 2048).clamp(64, 4096);
    let options = ThreadOptions {
        capacity: MESSAGES + 16,
        ..ThreadOptions::default()
    };
    let (thread, rx) = SourceThread::spawn(source, options).unwrap();

    // Pre-encode so that the sender is as fast as it can be.
    let packets: Vec<Vec<u8>> = (0..MESSAGES)
        .map(|i| {
            msg(
                "/avatar/parameters/HR",
                vec![OscType::Int(40 + (i % 150) as i32)],
            )
        })
        .collect();
    let received = Arc::new(AtomicUsize::new(0));
    let seen = received.clone();
    let sender = std::thread::spawn(move || {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let start = Instant::now();
        for (i, p) in packets.iter().enumerate() {
            while i >= seen.load(Ordering::Acquire) + window {
                if start.elapsed() > Duration::from_secs(60) {
                    return start.elapsed();
                }
                std::thread::yield_now();
            }
            sock.send_to(p, addr).unwrap();
        }
        start.elapsed()
    });

    let start = Instant::now();
    let mut sum = 0f64;
    let mut n = 0;
    while n < MESSAGES {
        match rx.recv_timeout(Duration::from_secs(5)) {
            Ok(Ok(SensorData::Reading(r))) => {
                if let Value::HeartRate(v) = r.value {
                    sum += f64::from(v);
                }
                n += 1;
                received.store(n, Ordering::Release);
            }
            Ok(other) => panic!("unexpected {other:?}"),
            Err(_) => break,
        }
    }
    let elapsed = start.elapsed();
    let send_time = sender.join().unwrap();
    let stats = thread.stop();
    let rate = n as f64 / elapsed.as_secs_f64();
    println!(
        "OSC ingest: {n}/{MESSAGES} messages in {:.3} s = {rate:.0} messages/s \
         (sender {:.3} s, window {window}, receive buffer granted {granted} bytes)",
        elapsed.as_secs_f64(),
        send_time.as_secs_f64()
    );
    assert_eq!(n, MESSAGES, "lost {} messages; {stats}", MESSAGES - n);
    assert_eq!(stats.delivered as usize, MESSAGES);
    assert_eq!(stats.rejected() + stats.dropped, 0);
    // Every value arrived intact.
    let expected: f64 = (0..MESSAGES).map(|i| 40.0 + (i % 150) as f64).sum();
    assert_eq!(sum, expected);
    assert!(rate >= 10_000.0, "only {rate:.0} messages/s");
}

#[test]
fn malformed_packets_are_counted_and_the_stream_goes_on() {
    let (source, addr) = bind(AddressMap::emotibit());
    let (thread, rx) = SourceThread::spawn(source, ThreadOptions::default()).unwrap();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let bundle = encoder::encode(&OscPacket::Bundle(OscBundle {
        timetag: OscTime {
            seconds: 0,
            fractional: 1,
        },
        content: vec![
            OscPacket::Message(OscMessage {
                addr: "/EmotiBit/0/HR".into(),
                args: vec![OscType::Float(71.0)],
            }),
            OscPacket::Message(OscMessage {
                addr: "/EmotiBit/0/EDA".into(),
                args: vec![OscType::Float(1.0), OscType::Float(1.1)],
            }),
        ],
    }))
    .unwrap();
    let good = msg("/EmotiBit/0/HR", vec![OscType::Float(70.0)]);
    let packets: Vec<Vec<u8>> = vec![
        b"not osc at all".to_vec(),
        good[..good.len() - 2].to_vec(), // truncated
        msg("/EmotiBit/0/HR", vec![OscType::String("seventy".into())]), // wrong type
        msg("/EmotiBit/0/HR", vec![OscType::Float(f32::NAN)]), // NaN
        msg("/EmotiBit/0/GYRO:X", vec![OscType::Float(0.1)]), // unmapped
        vec![],                          // empty datagram
        good.clone(),
        bundle,
    ];
    for p in &packets {
        sock.send_to(p, addr).unwrap();
    }
    let mut data = Vec::new();
    let mut issues = Vec::new();
    while data.len() < 4 {
        match rx.recv_timeout(Duration::from_secs(5)) {
            Ok(Ok(d)) => data.push(d),
            Ok(Err(i)) => issues.push(i),
            Err(e) => panic!("timed out with {data:?} {issues:?}: {e}"),
        }
    }
    let values: Vec<Value> = data
        .iter()
        .map(|d| match d {
            SensorData::Reading(r) => r.value,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        values,
        vec![
            Value::HeartRate(70.0),
            Value::HeartRate(71.0),
            Value::Eda(1.0),
            Value::Eda(1.1)
        ]
    );
    let kinds: Vec<IssueKind> = issues.iter().map(|i| i.kind).collect();
    assert_eq!(
        kinds,
        vec![
            IssueKind::Malformed,
            IssueKind::Malformed,
            IssueKind::Malformed,
            IssueKind::Implausible,
            IssueKind::Unused,
            IssueKind::Malformed
        ],
        "{issues:#?}"
    );
    assert!(issues.iter().all(|i| i
        .error
        .file
        .to_string_lossy()
        .starts_with("osc udp://127.0.0.1:")));
    assert_eq!(issues[2].error.field.as_deref(), Some("/EmotiBit/0/HR"));
    let stats = thread.stop();
    assert_eq!(
        (
            stats.delivered,
            stats.malformed,
            stats.implausible,
            stats.unused
        ),
        (4, 4, 1, 1)
    );
}

#[test]
fn presets_listen_on_loopback_at_the_usual_ports() {
    let e = OscConfig::emotibit();
    assert!(e.bind.ip().is_loopback());
    assert_eq!(e.bind.port(), 12345);
    for a in [
        "/EmotiBit/0/EDA",
        "/EmotiBit/0/HR",
        "/EmotiBit/0/PPG:IR",
        "/EmotiBit/0/ACC:X",
    ] {
        assert!(e.map.get(a).is_some(), "{a}");
    }
    let h = OscConfig::preset("vrchat").unwrap();
    assert!(h.bind.ip().is_loopback());
    assert_eq!(h.bind.port(), 9000);
    assert!(h.map.get("/avatar/parameters/HR").is_some());
    assert!(OscConfig::preset("nope").is_none());
}
