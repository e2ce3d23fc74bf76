//! Checks the WAVs `examples/c/render.c` wrote (`make capi-test` runs it): 10 s of
//! stereo at 48 kHz, finite samples, a sane level, the peak under the preset's ceiling,
//! and every file identical to the first (the shared and the static build).
//!
//! `cargo run -p isochord-capi --example check_wav -- A.wav [B.wav …]`

use isochord_engine::Preset;
use std::error::Error;

const FRAMES: usize = 480_000;

fn read(path: &str) -> Result<Vec<f32>, Box<dyn Error>> {
    let mut r = hound::WavReader::open(path)?;
    let spec = r.spec();
    if spec.channels != 2 || spec.sample_rate != 48_000 {
        return Err(format!(
            "{path}: {} channels at {} Hz, expected stereo at 48000 Hz",
            spec.channels, spec.sample_rate
        )
        .into());
    }
    Ok(r.samples::<f32>().collect::<Result<Vec<_>, _>>()?)
}

fn main() -> Result<(), Box<dyn Error>> {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        return Err("usage: check_wav A.wav [B.wav …]".into());
    }
    let ceiling_dbfs = Preset::find("relax")?.sound.master.ceiling_dbfs;
    let ceiling = 10f32.powf(ceiling_dbfs / 20.0);
    let first = read(&paths[0])?;
    for path in &paths {
        let s = read(path)?;
        if s.len() != 2 * FRAMES {
            return Err(format!("{path}: {} frames, expected {FRAMES}", s.len() / 2).into());
        }
        if let Some(i) = s.iter().position(|v| !v.is_finite()) {
            return Err(format!("{path}: sample {i} is {}", s[i]).into());
        }
        let rms = (s.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / s.len() as f64).sqrt();
        let rms_db = 20.0 * rms.max(1e-12).log10();
        let peak = s.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let peak_db = 20.0 * (peak.max(1e-12) as f64).log10();
        println!("{path}: {FRAMES} frames, RMS {rms_db:.1} dBFS, peak {peak_db:.2} dBFS (ceiling {ceiling_dbfs} dBFS)");
        if !(-45.0..=-10.0).contains(&rms_db) {
            return Err(format!("{path}: RMS {rms_db:.1} dBFS is outside -45..-10 dBFS").into());
        }
        if peak > ceiling * 1.0001 {
            return Err(format!("{path}: peak {peak_db:.2} dBFS is over the ceiling").into());
        }
        if s != first {
            let i = s.iter().zip(&first).position(|(a, b)| a != b).unwrap_or(0);
            return Err(format!("{path} differs from {} from frame {}", paths[0], i / 2).into());
        }
    }
    println!("{} file(s) checked, identical", paths.len());
    Ok(())
}
