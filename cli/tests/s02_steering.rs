//! Steering a listener can hear, on a real recording: the bundled Stress-Predict S02
//! session (rest, Stroop test, rest, interview, rest, hyperventilation) steering `relax`,
//! against the same preset left static. While the session leads, the adaptive render's
//! spectral centroid must differ from the static one's by at least 10 % in most 30-second
//! windows.

use realfft::RealFftPlanner;
use std::path::Path;
use std::process::Command;

const RATE: u32 = 16_000;
const WINDOW_S: usize = 30;

fn render(dir: &Path, name: &str, adaptive: bool) -> (Vec<f32>, Option<Vec<serde_json::Value>>) {
    let wav = dir.join(format!("{name}.wav"));
    let log = dir.join(format!("{name}.jsonl"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_isochord"));
    cmd.args([
        "render",
        "--preset",
        "relax",
        "--duration",
        "40m",
        "--seed",
        "1",
    ])
    .args([
        "--sample-rate",
        &RATE.to_string(),
        "--quiet",
        "--no-content",
    ])
    .arg("--out")
    .arg(&wav);
    if adaptive {
        let rec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/demo/stress-predict-S02");
        cmd.arg("--biometrics").arg(rec).arg("--log").arg(&log);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut r = hound::WavReader::open(&wav).unwrap();
    let x: Vec<f32> = r.samples::<f32>().map(|s| s.unwrap()).collect();
    let mono = x.chunks_exact(2).map(|f| 0.5 * (f[0] + f[1])).collect();
    let records = adaptive.then(|| {
        std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    });
    (mono, records)
}

/// Spectral centroid (magnitude-weighted, 20 Hz–8 kHz) of Hann frames of 4096 samples,
/// half-overlapped, averaged over the signal.
fn centroid(x: &[f32]) -> f64 {
    let n = 4096;
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(n);
    let mut input = fft.make_input_vec();
    let mut out = fft.make_output_vec();
    let mut mag = vec![0.0f64; n / 2 + 1];
    let mut i = 0;
    while i + n <= x.len() {
        for (k, d) in input.iter_mut().enumerate() {
            let w = 0.5 - 0.5 * (std::f32::consts::TAU * k as f32 / n as f32).cos();
            *d = x[i + k] * w;
        }
        fft.process(&mut input, &mut out).unwrap();
        for (m, c) in mag.iter_mut().zip(&out) {
            *m += c.norm() as f64;
        }
        i += n / 2;
    }
    let df = RATE as f64 / n as f64;
    let (mut num, mut den) = (0.0, 0.0);
    for (k, m) in mag.iter().enumerate() {
        let f = k as f64 * df;
        if (20.0..=8000.0).contains(&f) {
            num += f * m;
            den += m;
        }
    }
    num / den
}

#[test]
fn on_the_s02_recording_the_adaptive_sound_departs_from_the_static_preset_while_it_leads() {
    let dir = tempfile::tempdir().unwrap();
    let (adaptive, log) = render(dir.path(), "adaptive", true);
    let (fixed, _) = render(dir.path(), "static", false);
    let log = log.unwrap();
    let phase_at = |t: usize| -> String {
        log.iter()
            .filter(|r| r["record"] == "second")
            .find(|r| r["t"].as_f64().unwrap_or(0.0) >= t as f64)
            .map(|r| r["policy"]["phase"].as_str().unwrap_or("").to_string())
            .unwrap_or_default()
    };
    let w = WINDOW_S * RATE as usize;
    let (mut lead, mut apart) = (0, 0);
    for k in 0..adaptive.len().min(fixed.len()) / w {
        let (a, b) = (k * w, (k + 1) * w);
        let ca = centroid(&adaptive[a..b]);
        let cs = centroid(&fixed[a..b]);
        let phase = phase_at(a / RATE as usize + WINDOW_S / 2);
        let ratio = ca / cs;
        println!(
            "{:5.1} min  {phase:8}  centroid adaptive {ca:6.0} Hz, static {cs:6.0} Hz, ratio {ratio:.2}",
            a as f64 / RATE as f64 / 60.0
        );
        if phase.eq_ignore_ascii_case("lead") {
            lead += 1;
            if (ratio - 1.0).abs() >= 0.10 {
                apart += 1;
            }
        }
    }
    println!("lead phase: {apart} of {lead} 30-s windows at least 10 % apart in centroid");
    assert!(lead >= 4, "the session led for only {lead} windows");
    assert!(
        2 * apart > lead,
        "{apart} of {lead} lead windows at least 10 % apart"
    );
}
