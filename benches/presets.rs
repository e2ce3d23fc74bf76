//! Speed and memory of every preset's full soundscape.
//!
//! `cargo bench --bench presets` prints, for each built-in preset:
//! - the real-time factor (seconds of audio per second of CPU on one thread, median of 3
//!   renders of 120 s at 48 kHz stereo);
//! - the cost of each 64- and 256-frame block as p50 / p99 / p99.9 / max, and p99.9 as a
//!   share of the block's period;
//!
//! the peak resident memory of a 60-minute `relax` render streamed to a WAV file
//! through the same path as `isochord render`, and the cost of a custom layer: `relax`
//! (synthesised) with and without the wind of `examples/custom_layer.rs` (a fundsp graph:
//! pink noise through a Moog ladder, stereo), real-time factors as above.
//!
//! `ISOCHORD_BENCH_SECONDS=N` shortens every render to N seconds (a smoke run).

use isochord::{OfflineSession, Preset, SampleFormat, Soundscape, Static, WavSink};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

const SR: f32 = 48_000.0;

fn bench_seconds(default: f32) -> f32 {
    std::env::var("ISOCHORD_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Peak resident set size of this process so far, in MiB (Linux `VmHWM`).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn memory_of_long_render() {
    let minutes = bench_seconds(3600.0) / 60.0;
    let before = peak_rss_mib();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("long.wav");
    let preset = Preset::find("relax").unwrap();
    let session = OfflineSession {
        content: isochord::Content::none(),
        config: preset.sound,
        sample_rate: 48_000,
        seed: 1,
        duration: Duration::from_secs_f32(minutes * 60.0),
        controller: Box::new(Static),
    };
    let mut sink = WavSink::create(&path, 48_000, SampleFormat::F32).unwrap();
    let t = Instant::now();
    let outcome = session
        .render(|b| sink.write(b), &AtomicBool::new(false), |_, _| {})
        .unwrap();
    sink.finish().unwrap();
    let wall = t.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "{} relax render to WAV: {:.0} MB file in {wall:.1} s; peak RSS {:.1} MiB (before the render {:.1} MiB)",
        isochord::engine::format_duration(Duration::from_secs_f32(minutes * 60.0)),
        bytes as f64 / 1e6,
        peak_rss_mib().unwrap_or(f64::NAN),
        before.unwrap_or(f64::NAN),
    );
    assert_eq!(
        outcome.frames,
        (minutes as f64 * 60.0 * 48_000.0).round() as u64
    );
}

/// The wind of `examples/custom_layer.rs`.
fn wind(s: &isochord::dsp::Steering) -> Box<dyn fundsp::prelude32::AudioUnit> {
    use fundsp::prelude32::*;
    let side = || {
        let cutoff = var_fn(&s.brightness, |b| 250.0 * 16f32.powf(b.clamp(0.0, 1.0)));
        let level = var_fn(&s.breath_swell, |w| 0.2 + 0.8 * w);
        ((pink() | cutoff | dc(0.55)) >> moog()) * level
    };
    Box::new(side() | side())
}

/// Real-time factor of `relax` without and with the example's wind, median of 3.
fn custom_layer_cost(seconds: f32) {
    let preset = Preset::find("relax").unwrap();
    let steering = isochord::dsp::Steering::new();
    let layer = isochord::dsp::CustomLayer::new("wind", wind(&steering), &steering, 0.8).unwrap();
    let mut rtf = [0.0f64; 2];
    for (i, with) in [false, true].into_iter().enumerate() {
        let mut content = isochord::Content::none();
        if with {
            content.custom.push(layer.clone());
        }
        let mut runs = Vec::new();
        for run in 0..3 {
            let mut s = Soundscape::with_content(&preset.sound, &content, SR, run);
            let mut buf = vec![0.0f32; 2 * 4800];
            let chunks = (seconds * 10.0) as usize;
            let t = Instant::now();
            for _ in 0..chunks {
                s.render(&mut buf);
            }
            runs.push(chunks as f64 * 0.1 / t.elapsed().as_secs_f64());
            std::hint::black_box(&buf);
        }
        runs.sort_by(|a, b| a.partial_cmp(b).unwrap());
        rtf[i] = runs[1];
    }
    let ns = |r: f64| 1e9 / (r * SR as f64);
    println!(
        "\nrelax (synthesised): RTF {:.0} ({:.0} ns/frame) alone, {:.0} ({:.0} ns/frame) with the custom_layer example's wind: +{:.0} ns/frame",
        rtf[0],
        ns(rtf[0]),
        rtf[1],
        ns(rtf[1]),
        ns(rtf[1]) - ns(rtf[0])
    );
}

fn main() {
    // first, so that the process's high-water mark is this render's
    memory_of_long_render();
    let seconds = bench_seconds(120.0);
    println!(
        "\n{:<8} {:>8} {:>10} | {:>32} | {:>32}",
        "preset",
        "RTF",
        "ns/frame",
        "64-frame block µs p50/p99/p99.9/max",
        "256-frame block µs p50/p99/p99.9/max"
    );
    let library = isochord::ContentLibrary::bundled();
    for preset in Preset::builtins() {
        let content = library.load_for(&preset.sound, SR as u32).content;
        let mut rtfs = Vec::new();
        for run in 0..3 {
            let mut s = Soundscape::with_content(&preset.sound, &content, SR, run);
            let mut buf = vec![0.0f32; 2 * 4800];
            let chunks = (seconds * 10.0) as usize;
            let t = Instant::now();
            for _ in 0..chunks {
                s.render(&mut buf);
            }
            let cpu = t.elapsed().as_secs_f64();
            std::hint::black_box(&buf);
            rtfs.push(chunks as f64 * 0.1 / cpu);
        }
        rtfs.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let rtf = rtfs[1];
        let mut blocks = String::new();
        for frames in [64usize, 256] {
            let mut s = Soundscape::with_content(&preset.sound, &content, SR, 7);
            let mut buf = vec![0.0f32; 2 * frames];
            let n = (seconds * SR) as usize / frames;
            let mut times = Vec::with_capacity(n);
            for _ in 0..n {
                let t = Instant::now();
                s.render(&mut buf);
                times.push(t.elapsed().as_secs_f64() * 1e6);
            }
            times.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let period_us = frames as f64 / SR as f64 * 1e6;
            blocks.push_str(&format!(
                " | {:>5.1} {:>5.1} {:>5.1} {:>6.1} ({:.1}%)",
                percentile(&times, 0.5),
                percentile(&times, 0.99),
                percentile(&times, 0.999),
                times[times.len() - 1],
                100.0 * percentile(&times, 0.999) / period_us
            ));
        }
        println!(
            "{:<8} {:>8.0} {:>10.0}{}",
            preset.name,
            rtf,
            1e9 / (rtf * SR as f64),
            blocks
        );
    }
    println!("\n(percent: p99.9 block cost as a share of the block's period at 48 kHz)");
    custom_layer_cost(seconds);
}
