//! Feature extraction speed: the 30-minute, 360 Hz MIT-BIH record 100 (lead MLII) fed to
//! a `FeatureExtractor` in 1 s waveform chunks, R-peak detection, artifact handling and
//! 60 s windows every 5 s (LF/HF over 120 s) included. Prints the median of 7 runs.
//!
//! `cargo bench --bench biometrics`

use isochord_engine::biometrics::ecg_peaks::detect_r_peaks;
use isochord_engine::biometrics::features::{FeatureConfig, FeatureExtractor};
use isochord_engine::biometrics::wfdb;
use isochord_engine::biometrics::{SensorData, WaveKind, Waveform};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let hea = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("engine/tests/data/biometrics/mitbih/100.hea");
    let rec = wfdb::read_record(&hea).expect("MIT-BIH record 100");
    let x = rec.signal("MLII").expect("lead MLII").to_vec();
    let fs = rec.header.fs;
    let minutes = x.len() as f64 / fs / 60.0;
    let chunks: Vec<SensorData> = x
        .chunks(fs as usize)
        .enumerate()
        .map(|(i, c)| {
            SensorData::Waveform(Waveform {
                kind: WaveKind::Ecg,
                start: i as f64,
                rate: fs,
                samples: c.to_vec(),
            })
        })
        .collect();

    let mut det = Vec::new();
    let mut full = Vec::new();
    let mut windows = 0;
    let mut beats = 0;
    for _ in 0..7 {
        let t = Instant::now();
        beats = detect_r_peaks(&x, fs).unwrap().len();
        det.push(t.elapsed());

        let t = Instant::now();
        let mut fx = FeatureExtractor::new(FeatureConfig::default()).unwrap();
        let mut n = 0;
        for c in &chunks {
            n += fx.push(c).len();
        }
        n += fx.finish().len();
        full.push(t.elapsed());
        windows = n;
    }
    let (d, f) = (median(det), median(full));
    println!(
        "MIT-BIH 100 MLII, {minutes:.1} min at {fs} Hz ({} samples)",
        x.len()
    );
    println!("  R-peak detection only:           {d:>10.2?}  ({beats} beats; median of 7)");
    println!(
        "  feature extraction incl. detection: {f:>10.2?}  ({windows} windows of 60 s every 5 s; median of 7; {:.0}x real time)",
        minutes * 60.0 / f.as_secs_f64()
    );
}
