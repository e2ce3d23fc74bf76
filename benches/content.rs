//! Loading and memory of recorded content.
//!
//! `cargo bench --bench content` prints:
//! - the bundled library (the Salamander piano subset and two loops) loaded for the
//!   `piano` preset at 48 kHz: wall time cold (median of 3 fresh libraries) and cached,
//!   the audio held in memory and the process's resident memory before and after;
//! - a 1 GB library written here (eight 16-bit stereo WAV recordings of about 11
//!   minutes): the time to check it in (its loudness measured by a decoding pass), the
//!   memory it takes while a soundscape plays four of its recordings at once (streamed
//!   from disk, 4 s rings) for 60 s, and whether any stream ran short;
//! - the piano preset's real-time factor with its content (one thread).
//!
//! `ISOCHORD_BENCH_SECONDS=N` shortens the recordings and renders to N seconds.

use isochord::{ContentLibrary, Preset, Soundscape};
use std::time::Instant;

const SR: u32 = 48_000;

fn bench_seconds(default: f32) -> f32 {
    std::env::var("ISOCHORD_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn status_mib(key: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn bundled() {
    let piano = Preset::find("piano").unwrap().sound;
    let before = status_mib("VmRSS:");
    let mut cold = Vec::new();
    let mut kept = None;
    let mut after_first = f64::NAN;
    for _ in 0..3 {
        let lib = ContentLibrary::bundled();
        let t = Instant::now();
        let loaded = lib.load_for(&piano, SR);
        cold.push(t.elapsed().as_secs_f64());
        if kept.is_none() {
            after_first = status_mib("VmRSS:");
        }
        kept = Some((lib, loaded));
    }
    let (lib, loaded) = kept.unwrap();
    let t = Instant::now();
    let again = lib.load_for(&piano, SR);
    let cached = t.elapsed().as_secs_f64();
    let held: usize = loaded.items.iter().map(|i| i.bytes).sum();
    println!(
        "bundled library for `piano` at 48 kHz: cold load {:.0} ms (median of 3), cached {:.3} ms; \
         {} items, {:.1} MiB of audio held; resident memory {before:.0} → {after_first:.0} MiB after the first load",
        median(cold) * 1e3,
        cached * 1e3,
        again.items.len(),
        held as f64 / 1048576.0,
    );
    let mut s = Soundscape::with_content(&piano, &loaded.content, SR as f32, 1);
    let seconds = bench_seconds(120.0);
    let mut buf = vec![0.0f32; 2 * 4800];
    let t = Instant::now();
    for _ in 0..(seconds * 10.0) as usize {
        s.render(&mut buf);
    }
    let cpu = t.elapsed().as_secs_f64();
    std::hint::black_box(&buf);
    println!(
        "piano preset with its content: {:.0}× real time (one thread, {seconds:.0} s at 48 kHz)",
        seconds as f64 / cpu
    );
}

fn large_library() {
    let minutes = bench_seconds(660.0) / 60.0;
    let dir = tempfile::tempdir_in(std::env::temp_dir()).unwrap();
    let t = Instant::now();
    let mut manifest = String::from("[library]\nname = \"large\"\n");
    let mut bytes = 0u64;
    for k in 0..8 {
        let name = format!("track{k}.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: SR,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(dir.path().join(&name), spec).unwrap();
        let frames = (minutes * 60.0 * SR as f32) as usize;
        let hz = 110.0 * (1.0 + k as f32 * 0.25);
        for i in 0..frames {
            let t = i as f32 / SR as f32;
            let v = (0.2
                * (std::f32::consts::TAU * hz * t).sin()
                * (0.6 + 0.4 * (0.1 * t).sin())
                * 32767.0) as i16;
            w.write_sample(v).unwrap();
            w.write_sample(v).unwrap();
        }
        w.finalize().unwrap();
        bytes += std::fs::metadata(dir.path().join(&name)).unwrap().len();
        manifest += &format!(
            "\n[[loop]]\nid = \"track{k}\"\nfile = \"{name}\"\ntags = [\"large\"]\nbrightness = {}\nenergy = {}\n",
            k as f32 / 8.0,
            (7 - k) as f32 / 8.0
        );
    }
    std::fs::write(dir.path().join("manifest.toml"), manifest).unwrap();
    let written = t.elapsed().as_secs_f64();

    let mut config = Preset::find("piano").unwrap().sound;
    config.pulse.instrument.clear();
    config.melody.instrument.clear();
    config.loops.tags = vec!["large".into()];
    config.loops.layers = 4;
    config.start.density = 1.0;
    let before = status_mib("VmRSS:");
    let mut lib = ContentLibrary::empty();
    lib.add_manifest(&dir.path().join("manifest.toml")).unwrap();
    let t = Instant::now();
    let loaded = lib.load_for(&config, SR);
    let load = t.elapsed().as_secs_f64();
    assert!(loaded.notices.is_empty(), "{:?}", loaded.notices);
    let streamed = loaded
        .items
        .iter()
        .filter(|i| i.kind.contains("streamed"))
        .count();
    let mut s = Soundscape::with_content(&config, &loaded.content, SR as f32, 1);
    let seconds = bench_seconds(60.0);
    let mut buf = vec![0.0f32; 2 * 4800];
    let t = Instant::now();
    for _ in 0..(seconds * 10.0) as usize {
        // the live feeder thread tops the rings up every 10 ms; here, as in an offline
        // render, once per 100 ms tick
        loaded.streams.pump();
        s.render(&mut buf);
    }
    let render = t.elapsed().as_secs_f64();
    let after = status_mib("VmRSS:");
    let sounding = s.loops_chosen().count();
    println!(
        "1 GB library ({:.2} GB of WAV, 8 recordings of {minutes:.1} min, written in {written:.0} s): \
         loaded in {load:.1} s ({streamed} streamed, loudness measured by decoding); \
         {sounding} playing at once for {seconds:.0} s ({:.0}× real time): resident memory {before:.0} → {after:.0} MiB",
        bytes as f64 / 1e9,
        seconds as f64 / render,
    );
}

fn main() {
    // the streamed library first, while the process is small
    large_library();
    bundled();
    println!(
        "peak resident memory of the process: {:.0} MiB",
        status_mib("VmHWM:")
    );
}
