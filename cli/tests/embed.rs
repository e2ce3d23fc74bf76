//! The embedding example's session (a host-owned callback, heart rate pushed from the
//! host's own thread) against `isochord render --biometrics` on the same recording: the
//! same decisions, the same log, the same audio, bit for bit.

#[path = "../../examples/embed_adaptive.rs"]
#[allow(dead_code)]
mod embed_adaptive;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Five minutes of a chest strap: heart rate and RR intervals, calm for two minutes,
/// then a step up (62 → 104 bpm) with less variability, then settling.
fn recording(path: &Path) {
    let mut s = String::from("time,hr,rr_ms\n");
    let (mut t, mut n) = (0.0f64, 0u64);
    while t < 300.0 {
        let aroused = if t < 120.0 {
            0.0
        } else {
            (1.0 - (t - 200.0).max(0.0) / 100.0).clamp(0.0, 1.0)
        };
        let base = 968.0 - aroused * 391.0;
        let rr = base + (40.0 - 30.0 * aroused) * (t * 1.3).sin() + ((n * 7919) % 13) as f64;
        t += rr / 1000.0;
        n += 1;
        s.push_str(&format!("{t:.3},{:.1},{rr:.1}\n", 60000.0 / rr));
    }
    std::fs::write(path, s).unwrap();
}

fn read_wav(p: &Path) -> Vec<f32> {
    let mut r = hound::WavReader::open(p).unwrap();
    assert_eq!(r.spec().sample_format, hound::SampleFormat::Float);
    r.samples::<f32>().map(|s| s.unwrap()).collect()
}

fn lines(p: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_host_callback_session_equals_the_offline_render_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("strap.csv");
    recording(&rec);
    let rate = 16_000;

    let cli_wav = dir.path().join("cli.wav");
    let cli_log = dir.path().join("cli.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_isochord"))
        .args([
            "render",
            "--preset",
            "relax",
            "--duration",
            "4m",
            "--seed",
            "1",
        ])
        .args([
            "--sample-rate",
            &rate.to_string(),
            "--quiet",
            "--biometrics",
        ])
        .arg(&rec)
        .arg("--out")
        .arg(&cli_wav)
        .arg("--log")
        .arg(&cli_log)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let host_log = dir.path().join("host.jsonl");
    let mut heard = 0;
    let host = embed_adaptive::run(
        &rec,
        Duration::from_secs(240),
        rate,
        1,
        Some(&host_log),
        |_| heard += 1,
    )
    .unwrap();

    // every tick's commands were there in time
    assert_eq!(host.summary.late_ticks, 0);
    assert_eq!(heard, host.events.len());

    // the audio, bit for bit
    let offline = read_wav(&cli_wav);
    assert_eq!(offline.len(), 2 * 240 * rate as usize);
    assert_eq!(host.samples.len(), offline.len());
    let differ = offline
        .iter()
        .zip(&host.samples)
        .filter(|(a, b)| a.to_bits() != b.to_bits())
        .count();
    assert_eq!(differ, 0, "{differ} samples differ");
    assert!(
        offline.iter().any(|s| s.abs() > 0.01),
        "the render is not silent"
    );

    // the decisions: the events the host heard are the log's decisions, in order
    let cli = lines(&cli_log);
    let logged: Vec<serde_json::Value> = cli
        .iter()
        .flat_map(|r| r["decisions"].as_array().cloned().unwrap_or_default())
        .collect();
    let heard: Vec<serde_json::Value> = host
        .events
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    assert_eq!(heard, logged);
    let decisions = logged.iter().filter(|e| e["kind"] == "decision").count();
    assert!(decisions >= 1, "the step in heart rate led to no decision");

    // and the whole log after its header (which names the input and the wall-clock start)
    let host_lines = lines(&host_log);
    assert_eq!(host_lines.len(), cli.len());
    assert!(cli.len() > 240, "one record a second");
    for (i, (a, b)) in cli.iter().zip(&host_lines).enumerate().skip(1) {
        assert_eq!(a, b, "log line {i} differs");
    }
}
