//! The Empatica E4 source on a real export excerpt (tests/data/e4_excerpt), replayed
//! instantly offline and at pace on an input thread.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use isochord_engine::biometrics::sources::{
    ready_at, Clock, E4File, E4Options, E4Source, Replay, Source, SourceThread, ThreadOptions,
    VirtualClock, WallClock,
};
use isochord_engine::biometrics::{SensorData, Value, WaveKind};

fn excerpt() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/e4_excerpt")
}

fn all_items() -> Vec<SensorData> {
    let s = E4Source::open(excerpt(), E4Options::default()).unwrap();
    s.items()
        .map(|x| x.unwrap_or_else(|e| panic!("unexpected issue: {e}")))
        .collect()
}

#[test]
fn e4_excerpt_is_aligned_on_one_time_base() {
    let s = E4Source::open(excerpt(), E4Options::default()).unwrap();
    assert_eq!(s.start_unix(), 1_560_279_825.0);
    let offsets = s.files();
    assert_eq!(offsets.len(), 6);
    for (kind, off) in offsets {
        let expected = if kind == E4File::Hr { 10.0 } else { 0.0 };
        assert_eq!(off, expected, "{kind:?}");
    }

    let items = all_items();
    let mut counts = [0usize; 6];
    let mut bvp_samples = 0;
    let mut first_hr = None;
    let mut first_rr = None;
    let mut first_acc = None;
    let mut last_eda = 0.0;
    for item in &items {
        match item {
            SensorData::Reading(r) => match r.value {
                Value::Acc(a) => {
                    counts[0] += 1;
                    first_acc.get_or_insert((r.time, a));
                }
                Value::Eda(_) => {
                    counts[2] += 1;
                    last_eda = r.time;
                }
                Value::HeartRate(v) => {
                    counts[3] += 1;
                    first_hr.get_or_insert((r.time, v));
                }
                Value::Temp(_) => counts[4] += 1,
                Value::Rr(v) => {
                    counts[5] += 1;
                    first_rr.get_or_insert((r.time, v));
                }
                other => panic!("unexpected {other:?}"),
            },
            SensorData::Waveform(w) => {
                assert_eq!(w.kind, WaveKind::Ppg);
                assert_eq!(w.rate, 64.0);
                assert_eq!(w.samples.len(), 64, "1 s chunks");
                assert_eq!(
                    w.start, counts[1] as f64,
                    "chunk {} starts at its second",
                    counts[1]
                );
                counts[1] += 1;
                bvp_samples += w.samples.len();
            }
        }
    }
    // ACC 120 s × 32 Hz, BVP 120 s, EDA and TEMP 300 s × 4 Hz, HR 290 rows, 61 beats.
    assert_eq!(counts, [3840, 120, 1200, 290, 1200, 61]);
    assert_eq!(bvp_samples, 7680);
    assert_eq!(
        first_hr,
        Some((10.0, 93.0)),
        "HR.csv starts 10 s after the others"
    );
    let (t, rr) = first_rr.unwrap();
    assert!(
        (t - 83.503822).abs() < 1e-9 && (rr - 609.403).abs() < 1e-3,
        "{t} {rr}"
    );
    assert_eq!(
        first_acc,
        Some((0.0, [-61.0 / 64.0, 25.0 / 64.0, 6.0 / 64.0]))
    );
    assert_eq!(last_eda, 299.75);
    // Merged in the order in which items are complete.
    for w in items.windows(2) {
        assert!(
            ready_at(&w[0]) <= ready_at(&w[1]),
            "{:?} then {:?}",
            w[0],
            w[1]
        );
    }
}

#[test]
fn offline_replay_releases_each_item_at_its_tick_without_waiting() {
    let expected = all_items();
    let clock = VirtualClock::new();
    let mut replay = Replay::new(
        E4Source::open(excerpt(), E4Options::default()).unwrap(),
        clock.clone(),
    );
    let started = Instant::now();
    let mut got = Vec::new();
    let tick = 0.1;
    let mut out = Vec::new();
    for k in 0..=3001 {
        let now = k as f64 * tick;
        clock.set(now);
        replay.drain_due(&mut out);
        for x in out.drain(..) {
            let d = x.unwrap();
            let due = ready_at(&d);
            assert!(due <= now + 1e-9, "released early: due {due}, now {now}");
            assert!(
                due > now - tick - 1e-9,
                "released late: due {due}, now {now}"
            );
            got.push(d);
        }
    }
    assert!(replay.is_finished());
    assert_eq!(got, expected);
    // 300 s of data; "instant" means nowhere near real time.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn live_replay_on_an_input_thread_keeps_the_recorded_pace() {
    let speed = 400.0; // 300 s of recording in 0.75 s
    let clock = WallClock::start_now().with_speed(speed);
    let source = Replay::new(
        E4Source::open(excerpt(), E4Options::default()).unwrap(),
        clock,
    );
    assert!(source.info().live);
    let (thread, rx) = SourceThread::spawn(source, ThreadOptions::default()).unwrap();
    let mut n = 0;
    let mut last_due = 0.0;
    let deadline = Instant::now() + Duration::from_secs(60);
    while let Ok(item) = rx.recv_timeout(Duration::from_secs(10)) {
        let d = item.unwrap();
        let due = ready_at(&d);
        assert!(
            clock.now() >= due - 1e-6,
            "item due at {due} received at {}",
            clock.now()
        );
        last_due = due;
        n += 1;
        assert!(Instant::now() < deadline, "replay too slow");
    }
    assert_eq!(n, all_items().len());
    assert!(clock.now() >= last_due);
    let stats = thread.stop();
    assert_eq!(stats.delivered as usize, n);
    assert_eq!((stats.rejected(), stats.dropped), (0, 0));
}

#[test]
fn broken_and_missing_files_are_reported_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("EDA.csv"), "yesterday\n4.0\n0.5\n").unwrap();
    std::fs::write(
        dir.path().join("HR.csv"),
        "1560279835.0\n1.0\n70\n300\n71\n",
    )
    .unwrap();
    let mut s = E4Source::open(dir.path(), E4Options::default()).unwrap();
    let got: Vec<_> = std::iter::from_fn(|| s.next()).collect();
    let errs: Vec<String> = got
        .iter()
        .filter_map(|x| x.as_ref().err())
        .map(|e| e.error.to_string())
        .collect();
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(
        errs[0].contains("EDA.csv:1:1: field `start`"),
        "{}",
        errs[0]
    );
    assert!(
        errs[1].contains("HR.csv:4:1: field `hr`: heart rate 300 bpm"),
        "{}",
        errs[1]
    );
    assert_eq!(got.iter().filter(|x| x.is_ok()).count(), 2);

    let empty = tempfile::tempdir().unwrap();
    let e = E4Source::open(empty.path(), E4Options::default()).unwrap_err();
    assert!(e.message.starts_with("no E4 files here"), "{e}");
    let e = E4Source::open(empty.path().join("nope"), E4Options::default()).unwrap_err();
    assert!(e.message.starts_with("not a folder"), "{e}");
}

#[test]
fn a_clock_shared_by_sources_gives_one_session_time() {
    // Two replays on clones of one virtual clock see the same time.
    let c = VirtualClock::new();
    let c2 = c.clone();
    c.set(12.5);
    assert_eq!(c2.now(), 12.5);
    c.advance(0.5);
    assert_eq!(c2.now(), 13.0);
}
