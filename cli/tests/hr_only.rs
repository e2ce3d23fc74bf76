//! Sessions fed heart rate alone (a chest strap or a watch app): the windows' quality is
//! judged on the heart rate that exists, estimates are made with the lower confidence a
//! single signal deserves, and a step in heart rate steers the sound.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn isochord(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isochord"))
        .args(args)
        .output()
        .expect("runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Heart rate once a second, `before` bpm until `step_at` s, then `after`.
fn hr_stream(path: &Path, seconds: usize, step_at: usize, before: f64, after: f64) {
    let mut out = String::new();
    for i in 0..seconds {
        let base = if i < step_at { before } else { after };
        // a little beat-to-beat wander, as a device reports
        let hr = base + 1.5 * ((i as f64) * 0.37).sin();
        out.push_str(&format!("{{\"time\": {i}, \"hr\": {hr:.1}}}\n"));
    }
    std::fs::write(path, out).unwrap();
}

fn session(dir: &Path, input: &Path, name: &str, duration: &str) -> Vec<Value> {
    session_with(dir, input, name, duration, &[])
}

fn session_with(
    dir: &Path,
    input: &Path,
    name: &str,
    duration: &str,
    extra: &[&str],
) -> Vec<Value> {
    let log = dir.join(format!("{name}-log.jsonl"));
    let wav = dir.join(format!("{name}.wav"));
    let mut args = vec![
        "render",
        "--preset",
        "relax",
        "--duration",
        duration,
        "--sample-rate",
        "8000",
        "--biometrics",
        s(input),
        "--out",
        s(&wav),
        "--log",
        s(&log),
    ];
    args.extend_from_slice(extra);
    let o = isochord(&args);
    assert!(o.status.success(), "{}", text(&o));
    std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn at(log: &[Value], t: f64) -> &Value {
    log.iter()
        .find(|r| r["record"] == "second" && r["t"].as_f64() == Some(t))
        .unwrap()
}

fn decisions(log: &[Value]) -> Vec<String> {
    log.iter()
        .filter_map(|r| r["decisions"].as_array())
        .flatten()
        .map(|d| d["message"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn heart_rate_alone_estimates_and_a_step_steers() {
    let dir = tempfile::tempdir().unwrap();
    let flat = dir.path().join("flat.jsonl");
    let step = dir.path().join("step.jsonl");
    hr_stream(&flat, 900, 900, 62.0, 62.0);
    hr_stream(&step, 900, 480, 62.0, 118.0);
    let a = session(dir.path(), &flat, "flat", "15m");
    let b = session(dir.path(), &step, "step", "15m");

    // quality is judged on the heart rate that exists
    let windows: Vec<&Value> = a
        .iter()
        .filter(|r| r["window"]["end"].as_f64().is_some_and(|e| e >= 120.0))
        .map(|r| &r["window"])
        .collect();
    assert!(!windows.is_empty());
    for w in &windows {
        let q = w["quality"].as_f64().unwrap();
        assert!(q > 0.9, "quality {q} in {w}");
    }
    // usable estimates once the baseline is known, with a confidence below what
    // several signals give
    let usable: Vec<f64> = a
        .iter()
        .filter(|r| r["model"]["abstain"].is_null() && r["model"]["confidence"].is_number())
        .map(|r| r["model"]["confidence"].as_f64().unwrap())
        .collect();
    assert!(usable.len() > 300, "{} usable seconds", usable.len());
    assert!(usable.iter().all(|c| *c > 0.25 && *c < 0.6), "{usable:?}");
    // no escalation for signal quality, no grounding
    let said = decisions(&a).join("\n");
    assert!(!said.contains("signal quality below"), "{said}");
    assert!(
        a.iter().all(|r| r["policy"]["grounding"] != true),
        "no grounding"
    );

    // the step raises arousal and the sound follows it
    let before = at(&b, 470.0)["model"]["arousal"].as_f64().unwrap();
    let after = at(&b, 600.0)["model"]["arousal"].as_f64().unwrap();
    assert!(after > before + 0.3, "arousal {before} → {after}");
    let tempo = |log: &[Value], t: f64| at(log, t)["params"]["tempo"].as_f64().unwrap();
    let energy = |log: &[Value], t: f64| at(log, t)["params"]["energy"].as_f64().unwrap();
    assert_eq!(
        tempo(&a, 470.0),
        tempo(&b, 470.0),
        "the same until the step"
    );
    let moved = (tempo(&b, 700.0) - tempo(&a, 700.0)).abs() > 1.0
        || (energy(&b, 700.0) - energy(&a, 700.0)).abs() > 0.05;
    assert!(
        moved,
        "tempo {} vs {}, energy {} vs {}",
        tempo(&a, 700.0),
        tempo(&b, 700.0),
        energy(&a, 700.0),
        energy(&b, 700.0)
    );
}

#[test]
fn a_recorded_heart_rate_alone_steers() {
    // the demo recording's HR.csv alone: a wrist device's 1 Hz heart rate
    let dir = tempfile::tempdir().unwrap();
    let e4 = dir.path().join("hr-only");
    std::fs::create_dir(&e4).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/demo/stress-predict-S02");
    std::fs::copy(src.join("HR.csv"), e4.join("HR.csv")).unwrap();
    let log = session(dir.path(), &e4, "rec", "12m");
    let q: Vec<f64> = log
        .iter()
        .filter(|r| r["window"]["end"].as_f64().is_some_and(|e| e >= 120.0))
        .map(|r| r["window"]["quality"].as_f64().unwrap())
        .collect();
    assert!(q.iter().all(|q| *q > 0.8), "{q:?}");
    let usable = log
        .iter()
        .filter(|r| r["model"]["abstain"].is_null() && r["model"]["confidence"].is_number())
        .count();
    assert!(usable > 200, "{usable} usable seconds");
    let actions: std::collections::HashSet<&str> = log
        .iter()
        .filter_map(|r| r["policy"]["action"].as_str())
        .collect();
    assert!(
        actions.iter().any(|a| *a != "hold" && *a != "abstain"),
        "{actions:?}"
    );
    let said = decisions(&log).join("\n");
    assert!(!said.contains("signal quality below"), "{said}");
}

#[test]
fn a_returning_listener_with_heart_rate_alone_is_estimated_from_the_first_window() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile.json");
    let p = s(&profile);
    let first_input = dir.path().join("first.jsonl");
    hr_stream(&first_input, 420, 420, 62.0, 62.0);
    // without a stored baseline nothing is estimated before the session's own
    let first = session_with(dir.path(), &first_input, "first", "7m", &["--profile", p]);
    let early = |log: &[Value]| {
        log.iter()
            .filter(|r| r["t"].as_f64().is_some_and(|t| t < 290.0))
            .filter(|r| r["model"]["abstain"].is_null() && r["model"]["confidence"].is_number())
            .count()
    };
    assert_eq!(early(&first), 0, "estimated before the first baseline");
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(&profile).unwrap()).unwrap();
    let hr = &stored["presets"]["relax"]["resting_baseline"]["features"]["mean_hr"];
    assert!(
        (hr["mean"].as_f64().unwrap() - 62.0).abs() < 1.0,
        "{stored}"
    );

    // the next session starts from it: estimates from the first windows, and a step
    // in heart rate in minute 3 is seen as arousal
    let second_input = dir.path().join("second.jsonl");
    hr_stream(&second_input, 420, 150, 62.0, 110.0);
    let second = session_with(dir.path(), &second_input, "second", "7m", &["--profile", p]);
    assert!(early(&second) > 150, "{} early estimates", early(&second));
    let said = decisions(&second).join("\n");
    assert!(
        said.contains("resting baseline from an earlier session"),
        "{said}"
    );
    let arousal = |t: f64| at(&second, t)["model"]["arousal"].as_f64().unwrap();
    assert!(
        arousal(240.0) > arousal(140.0) + 0.3,
        "{} → {}",
        arousal(140.0),
        arousal(240.0)
    );
}
