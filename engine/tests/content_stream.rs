//! Long recordings stream from disk: what plays is what the same file plays from memory,
//! while only the stream's ring is held.

use isochord_dsp::Soundscape;
use isochord_engine::content::ContentLibrary;
use isochord_engine::Preset;
use std::path::Path;

const SR: u32 = 48_000;

/// A 20 s stereo recording at `rate`: a slow sweep over noise-free partials.
fn write_recording(path: &Path, rate: u32) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let mut phase = 0.0f64;
    for i in 0..20 * rate as usize {
        let t = i as f64 / rate as f64;
        let hz = 300.0 + 200.0 * (t * 0.3).sin();
        phase += hz / rate as f64;
        let v = 0.3 * (std::f64::consts::TAU * phase).sin() as f32;
        w.write_sample(v).unwrap();
        w.write_sample(0.5 * v).unwrap();
    }
    w.finalize().unwrap();
}

fn library(dir: &Path, file: &str, stream: bool) -> ContentLibrary {
    let manifest = dir.join(format!("{file}-{stream}.toml"));
    std::fs::write(
        &manifest,
        format!("[[loop]]\nid = \"bed\"\nfile = \"{file}\"\nstream = {stream}\ntags = [\"bed\"]\n"),
    )
    .unwrap();
    let mut lib = ContentLibrary::empty();
    lib.add_manifest(&manifest).unwrap();
    lib
}

fn bed_only() -> isochord_dsp::SoundscapeConfig {
    let mut c = Preset::find("piano").unwrap().sound;
    c.pulse.instrument.clear();
    c.melody.instrument.clear();
    c.loops.tags = vec!["bed".into()];
    c.loops.layers = 1;
    c.pad.enabled = false;
    c.pulse.enabled = false;
    c.melody.enabled = false;
    c.noise.enabled = false;
    c.breath.enabled = false;
    c.master.fade_in_s = 0.0;
    c.start.reverb = 0.0;
    c.start.brightness = 1.0;
    // a flat mix, so the level reads the stream (the preset's EQ shapes the test sweep)
    c.master.low_db = 0.0;
    c.master.low_mid_db = 0.0;
    c.master.high_db = 0.0;
    c
}

fn render(lib: &ContentLibrary, seconds: f32) -> (Vec<f32>, usize) {
    let c = bed_only();
    let loaded = lib.load_for(&c, SR);
    assert!(loaded.notices.is_empty(), "{:?}", loaded.notices);
    let bytes = loaded.items[0].bytes;
    let mut s = Soundscape::with_content_and_makeup(&c, &loaded.content, SR as f32, 1, 1.0);
    let mut out = vec![0.0f32; 2 * (seconds * SR as f32) as usize];
    for chunk in out.chunks_mut(2 * 4800) {
        loaded.streams.pump(); // the offline renderer's top-up, once per 100 ms tick
        s.render(chunk);
    }
    (out, bytes)
}

#[test]
fn a_streamed_recording_plays_what_memory_plays_and_holds_only_its_ring() {
    let dir = tempfile::tempdir().unwrap();
    write_recording(&dir.path().join("bed.wav"), SR);
    let (memory, memory_bytes) = render(&library(dir.path(), "bed.wav", false), 15.0);
    let (streamed, ring_bytes) = render(&library(dir.path(), "bed.wav", true), 15.0);
    // the in-memory player fades its first 50 ms in; from 0.1 s on they must agree
    let from = 2 * SR as usize / 10;
    let diff = memory[from..]
        .iter()
        .zip(&streamed[from..])
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    let level = memory[from..].iter().fold(0.0f32, |m, v| m.max(v.abs()));
    println!(
        "streamed vs in memory: largest difference {diff:.2e} (peak {level:.3}); held {:.1} MiB in memory vs {:.1} MiB for the ring",
        memory_bytes as f64 / 1048576.0,
        ring_bytes as f64 / 1048576.0
    );
    assert!(level > 0.01, "the recording plays");
    assert!(diff < 1e-5, "{diff}");
    assert!(
        ring_bytes * 4 < memory_bytes,
        "{ring_bytes} vs {memory_bytes}"
    );
}

#[test]
fn a_streamed_recording_loops_and_is_resampled_to_the_engine_rate() {
    // 44.1 kHz on disk, 48 kHz out, 45 s: the 20 s recording wraps twice without a gap
    let dir = tempfile::tempdir().unwrap();
    write_recording(&dir.path().join("bed44.wav"), 44_100);
    let (x, _) = render(&library(dir.path(), "bed44.wav", true), 45.0);
    let env: Vec<f32> = x
        .chunks(2 * 480)
        .map(|c| (c.iter().map(|v| v * v).sum::<f32>() / c.len() as f32).sqrt())
        .collect();
    let quietest = env[10..].iter().fold(f32::INFINITY, |m, v| m.min(*v));
    let loudest = env.iter().fold(0.0f32, |m, v| m.max(*v));
    println!("45 s streamed from 44.1 kHz: 10 ms RMS between {quietest:.4} and {loudest:.4}");
    assert!(
        quietest > 0.8 * loudest,
        "a gap or dropout: {quietest} vs {loudest}"
    );
}

#[test]
fn a_vanished_file_is_left_out_with_a_notice() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path(), "missing.wav", true);
    let loaded = lib.load_for(&bed_only(), SR);
    assert!(loaded.content.loops.is_empty());
    let n = &loaded.notices[0];
    println!("{n}");
    assert!(n.error.file.ends_with("missing.wav"), "{n}");
}

/// Removes a file at a moment of the session.
struct RemoveAt {
    path: std::path::PathBuf,
    at_s: f64,
}

impl isochord_engine::Controller for RemoveAt {
    fn tick(&mut self, time: f64, _out: &mut Vec<isochord_dsp::Command>) {
        if time >= self.at_s && self.path.exists() {
            std::fs::remove_file(&self.path).unwrap();
        }
    }
}

/// A streamed recording `name` in a fresh folder: the folder, the file and its library.
fn streamed(name: &str) -> (tempfile::TempDir, std::path::PathBuf, ContentLibrary) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    write_recording(&path, SR);
    let lib = library(dir.path(), name, true);
    (dir, path, lib)
}

/// Renders 30 s of `config` with `content`, steered by `controller`: the audio and what
/// the render reports.
fn render_30_s(
    config: isochord_dsp::SoundscapeConfig,
    content: isochord_dsp::Content,
    controller: Box<dyn isochord_engine::Controller>,
) -> (Vec<f32>, isochord_engine::RenderOutcome) {
    let session = isochord_engine::OfflineSession {
        config,
        content,
        sample_rate: SR,
        seed: 1,
        duration: std::time::Duration::from_secs(30),
        controller,
    };
    let mut out = Vec::new();
    let outcome = session
        .render(
            |b| {
                out.extend_from_slice(b);
                Ok::<_, ()>(())
            },
            &std::sync::atomic::AtomicBool::new(false),
            |_, _| {},
        )
        .unwrap();
    (out, outcome)
}

#[test]
fn a_recording_that_vanishes_mid_session_falls_silent_and_is_reported_once() {
    let (_dir, path, lib) = streamed("gone.wav");
    let c = bed_only();
    let loaded = lib.load_for(&c, SR);
    assert!(loaded.notices.is_empty(), "{:?}", loaded.notices);
    let mut watch = loaded.streams.failures();
    // the open file plays on; at the loop point (20 s) it must be opened again, and is gone
    let remove = RemoveAt {
        path: path.clone(),
        at_s: 5.0,
    };
    let (out, outcome) = render_30_s(c, loaded.content, Box::new(remove));
    let rms = |from_s: f32, to_s: f32| {
        let s = &out[2 * (from_s * SR as f32) as usize..2 * (to_s * SR as f32) as usize];
        (s.iter().map(|v| v * v).sum::<f32>() / s.len() as f32).sqrt()
    };
    let (before, after) = (rms(10.0, 15.0), rms(22.0, 26.0));
    let failures = watch.take_new();
    println!(
        "file removed at 5 s: RMS {before:.4} at 10–15 s, {after:.6} at 22–26 s; {:.2} s missing; {:?}",
        outcome.stream_missing_frames as f64 / SR as f64, failures
    );
    assert_eq!(
        outcome.frames,
        30 * SR as u64,
        "the session runs to its end"
    );
    assert!(before > 0.01, "it played before the loop point");
    assert!(after < before * 1e-3, "silent after the failure: {after}");
    // the ring (4 s ahead) ran dry about 4 s after the file's end was read at ~16 s
    let missing_s = outcome.stream_missing_frames as f64 / SR as f64;
    assert!((5.0..=14.0).contains(&missing_s), "{missing_s}");
    assert!(failures.iter().any(|f| f.path == path), "{failures:?}");
    assert!(watch.take_new().iter().all(|f| f.path != path), "told once");
}

/// An adaptive session that removes a file at a moment, keeping every event it reports.
struct AdaptiveRemovingAt {
    inner: isochord_engine::session::AdaptiveController,
    remove: RemoveAt,
    events: std::sync::Arc<std::sync::Mutex<Vec<isochord_engine::policy::SessionEvent>>>,
}

impl isochord_engine::Controller for AdaptiveRemovingAt {
    fn tick(&mut self, time: f64, out: &mut Vec<isochord_dsp::Command>) {
        self.remove.tick(time, out);
        self.inner.tick(time, out);
        let new = isochord_engine::Controller::take_events(&mut self.inner);
        self.events.lock().unwrap().extend(new);
    }
}

#[test]
fn an_adaptive_session_logs_a_failed_stream_for_review() {
    use isochord_engine::biometrics::sources::{SimOptions, Simulator};
    use isochord_engine::session::{session_features, AdaptiveController, AdaptiveSetup};
    let (_dir, path, lib) = streamed("gone-adaptive.wav");
    let c = bed_only();
    let loaded = lib.load_for(&c, SR);
    let preset = Preset::find("piano").unwrap();
    let setup = AdaptiveSetup {
        protocol: preset.protocol.clone().unwrap(),
        sound: c.clone(),
        duration_s: 30.0,
        features: session_features(),
        estimator: Box::new(isochord_engine::mood::RuleEstimator::default()),
        allowance: Default::default(),
        breath_baseline: None,
        startup_events: Vec::new(),
    };
    let sim = Simulator::new(SimOptions {
        seed: 1,
        duration: Some(60.0),
        ..Default::default()
    });
    let feed = Box::new(isochord_engine::session::ReplayFeed::new(Box::new(sim)));
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut inner = AdaptiveController::new(setup, feed, None).unwrap();
    inner.watch_streams(&loaded.streams);
    let controller = AdaptiveRemovingAt {
        inner,
        remove: RemoveAt {
            path: path.clone(),
            at_s: 5.0,
        },
        events: events.clone(),
    };
    render_30_s(c, loaded.content, Box::new(controller));
    let events = events.lock().unwrap();
    let failed: Vec<_> = events
        .iter()
        .filter(|e| e.message.contains("gone-adaptive.wav"))
        .collect();
    println!("{failed:?}");
    assert_eq!(failed.len(), 1, "reported once: {failed:?}");
    let e = failed[0];
    assert!(e.review, "flagged for review");
    assert_eq!(e.kind.name(), "content");
    // the reopen at the loop point: the feeder reads ~4 s ahead of the 20 s point
    assert!((10.0..=20.0).contains(&e.time), "at {} s", e.time);
}

#[test]
fn the_feeder_thread_ends_with_its_set() {
    let (_dir, _path, lib) = streamed("fed.wav");
    let c = bed_only();
    let loaded = lib.load_for(&c, SR);
    let mut s = Soundscape::with_content_and_makeup(&c, &loaded.content, SR as f32, 1, 1.0);
    let mut buf = vec![0.0f32; 2 * 4800];
    // the feeder (not the test) keeps the ring filled: 2 s of real time for 1 s of audio
    for _ in 0..10 {
        std::thread::sleep(std::time::Duration::from_millis(200));
        s.render(&mut buf);
    }
    assert_eq!(loaded.streams.len(), 1);
    assert!(
        buf.iter().any(|v| v.abs() > 0.01),
        "the feeder filled the ring"
    );
    let weak = loaded.streams.downgrade();
    drop(s);
    drop(loaded);
    let t = std::time::Instant::now();
    while weak.is_alive() && t.elapsed() < std::time::Duration::from_secs(5) {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(!weak.is_alive(), "the set outlived its engine");
    // the library's cache keeps what it decoded, not the set: a new load gets a new one
    let again = lib.load_for(&c, SR);
    assert!(again.streams.is_empty());
}

#[test]
fn two_engines_keep_their_streams_and_failures_apart() {
    let (_da, path_a, lib_a) = streamed("a.wav");
    let (_db, _path_b, lib_b) = streamed("b.wav");
    let c = bed_only();
    let a = lib_a.load_for(&c, SR);
    let b = lib_b.load_for(&c, SR);
    // a second engine loading from the same library (a cache hit) owns its own stream
    let a2 = lib_a.load_for(&c, SR);
    let mut watch_a = a.streams.failures();
    let mut watch_b = b.streams.failures();
    let mut watch_a2 = a2.streams.failures();
    let _s_a2 = Soundscape::with_content_and_makeup(&c, &a2.content, SR as f32, 1, 1.0);
    assert_eq!(a2.streams.len(), 1);
    assert!(a.streams.is_empty() && b.streams.is_empty());
    std::fs::remove_file(&path_a).unwrap();
    let remove = RemoveAt {
        path: path_a.clone(),
        at_s: 0.0,
    };
    let (_, outcome_a) = render_30_s(c.clone(), a.content.clone(), Box::new(remove));
    let (_, outcome_b) = render_30_s(c, b.content.clone(), Box::new(isochord_engine::Static));
    let (fa, fb) = (watch_a.take_new(), watch_b.take_new());
    println!("engine a: {fa:?}; engine b: {fb:?}");
    assert!(fa.iter().any(|f| f.path == path_a), "{fa:?}");
    assert!(fb.is_empty(), "engine b heard engine a's failure: {fb:?}");
    assert!(outcome_a.stream_missing_frames > 0);
    assert_eq!(outcome_b.stream_missing_frames, 0);
    // the other engine on a's library opened its stream before the file went (it
    // reads ahead from the open file, far from its loop point): a's failure is not its
    assert!(watch_a2.take_new().is_empty());
}
