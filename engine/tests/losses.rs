//! Input lost before the session could use it is counted and reported: datagrams the
//! kernel dropped from an OSC socket's full receive buffer, and items a full input
//! queue dropped; live playback events reach the session log with their times.

use isochord_engine::biometrics::sources::{
    OscConfig, OscSource, Pull, Source, SourceThread, ThreadOptions, WallClock,
};
use isochord_engine::control::Controller;
use isochord_engine::mood::RuleEstimator;
use isochord_engine::policy::{EventKind, SessionEvent};
use isochord_engine::session::{
    session_features, AdaptiveController, AdaptiveSetup, ChannelFeed, SessionLog,
};
use isochord_engine::Preset;
use rosc::{encoder, OscMessage, OscPacket, OscType};
use std::net::UdpSocket;
use std::time::{Duration, Instant};

fn hr(bpm: f32) -> Vec<u8> {
    encoder::encode(&OscPacket::Message(OscMessage {
        addr: "/avatar/parameters/HR".into(),
        args: vec![OscType::Float(bpm)],
    }))
    .unwrap()
}

fn small_socket() -> OscSource {
    let config = OscConfig {
        recv_buffer: 4096,
        ..OscConfig::hr_apps().with_port(0)
    };
    OscSource::bind(&config, WallClock::start_now()).unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn datagrams_the_kernel_drops_are_counted() {
    let mut source = small_socket();
    let to = source.local_addr();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    const SENT: u64 = 3000;
    for _ in 0..SENT {
        tx.send_to(&hr(70.0), to).unwrap();
    }
    // nothing read yet: the small buffer overflowed
    let lost = source.lost();
    assert!(lost > 0, "no loss counted");
    let mut read = 0u64;
    let quiet = Instant::now();
    while quiet.elapsed() < Duration::from_millis(300) {
        match source.pull(Duration::from_millis(20)) {
            Pull::Data(_) => read += 1,
            Pull::Issue(i) => panic!("{i}"),
            _ => {}
        }
    }
    assert_eq!(read + source.lost(), SENT, "read {read}, lost {lost}");
}

fn setup(duration_s: f64) -> AdaptiveSetup {
    let preset = Preset::find("relax").unwrap();
    AdaptiveSetup {
        protocol: preset.protocol.clone().unwrap(),
        sound: preset.sound.clone(),
        duration_s,
        features: session_features(),
        estimator: Box::new(RuleEstimator::default()),
        allowance: Default::default(),
        breath_baseline: None,
        startup_events: Vec::new(),
    }
}

fn log_lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn messages(log: &[serde_json::Value]) -> Vec<(f64, String, String)> {
    log.iter()
        .filter_map(|r| r["decisions"].as_array())
        .flatten()
        .map(|d| {
            (
                d["time"].as_f64().unwrap(),
                d["kind"].as_str().unwrap().to_string(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[cfg(target_os = "linux")]
#[test]
fn a_flooded_input_is_counted_shown_and_logged() {
    let source = small_socket();
    let to = source.local_addr();
    // a tiny queue the session drains only once a second: both kinds of loss
    let options = ThreadOptions {
        capacity: 16,
        max_block: Duration::ZERO,
        ..Default::default()
    };
    let (thread, rx) = SourceThread::spawn(source, options).unwrap();
    let file = tempfile::NamedTempFile::new().unwrap();
    let log = SessionLog::new(
        Box::new(std::fs::File::create(file.path()).unwrap()),
        Default::default(),
    );
    let mut ctl = AdaptiveController::new(
        setup(30.0),
        Box::new(ChannelFeed::new(thread, rx)),
        Some(log),
    )
    .unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut out = Vec::new();
    for second in 1..=3 {
        for _ in 0..5000 {
            tx.send_to(&hr(70.0), to).unwrap();
        }
        std::thread::sleep(Duration::from_millis(700));
        ctl.tick(second as f64, &mut out);
    }
    let status = Controller::status_text(&ctl).unwrap();
    assert!(status.contains("input lost"), "{status}");
    let o = ctl.finish_session();
    assert!(o.input_lost > 1000, "{}", o.input_lost);
    let said = messages(&log_lines(file.path()));
    let loss: Vec<_> = said
        .iter()
        .filter(|m| m.2.contains("input items lost"))
        .collect();
    assert!(!loss.is_empty(), "{said:?}");
    assert_eq!(loss[0].1, "sensor");
}

#[test]
fn playback_events_are_logged_at_their_times() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let log = SessionLog::new(
        Box::new(std::fs::File::create(file.path()).unwrap()),
        Default::default(),
    );
    let feed = isochord_engine::session::ReplayFeed::new(Box::new(
        isochord_engine::biometrics::sources::VecSource::new("nothing", Vec::new()),
    ));
    let mut ctl = AdaptiveController::new(setup(10.0), Box::new(feed), Some(log)).unwrap();
    let mut out = Vec::new();
    for i in 1..=50 {
        let t = i as f64 * 0.1;
        ctl.tick(t, &mut out);
        if i == 23 {
            Controller::note(
                &mut ctl,
                SessionEvent::new(t, EventKind::Playback, "output underrun (1 so far)"),
            );
        }
    }
    ctl.finish_session();
    let said = messages(&log_lines(file.path()));
    let under: Vec<_> = said.iter().filter(|m| m.1 == "playback").collect();
    assert_eq!(under.len(), 1, "{said:?}");
    assert!((under[0].0 - 2.3).abs() < 1e-9);
}
