//! Adaptive sessions from the command line: bad input in the middle of a session, a
//! sensor that dies, corrupt and future profiles. The session always goes on, says what
//! happened, and loses nothing.

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

fn log(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn decisions(log: &[serde_json::Value]) -> Vec<(f64, String, String, bool)> {
    log.iter()
        .flat_map(|r| r["decisions"].as_array().cloned().unwrap_or_default())
        .map(|d| {
            (
                d["time"].as_f64().unwrap(),
                d["kind"].as_str().unwrap().to_string(),
                d["message"].as_str().unwrap().to_string(),
                d["review"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// Three minutes of readings at an aroused heart rate, with garbage in the middle: a
/// malformed line, a NaN, an absurd heart rate. Then the sensor dies (the file ends).
fn readings(path: &Path) {
    let mut s = String::from("time,hr,rr_ms,eda_us\n");
    let mut t = 0.0f64;
    let mut n = 0;
    while t < 180.0 {
        let rr = 640.0 + 25.0 * (t * 0.9).sin() + 10.0 * ((n * 7919) % 13) as f64 / 13.0;
        t += rr / 1000.0;
        n += 1;
        match n {
            40 => s.push_str("this is not a row\n"),
            41 => s.push_str(&format!("{t:.3},NaN,{rr:.1},4.0\n")),
            42 => s.push_str(&format!("{t:.3},900,{rr:.1},4.0\n")),
            _ => s.push_str(&format!(
                "{t:.3},{:.1},{rr:.1},{:.3}\n",
                60000.0 / rr,
                4.0 + 0.002 * t
            )),
        }
    }
    std::fs::write(path, s).unwrap();
}

#[test]
fn bad_input_and_a_dying_sensor_give_events_and_the_session_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    readings(&input);
    let wav = dir.path().join("s.wav");
    let log_path = dir.path().join("s.jsonl");
    let o = isochord(&[
        "render",
        "--preset",
        "relax",
        "--duration",
        "8m",
        "--sample-rate",
        "16000",
        "--biometrics",
        input.to_str().unwrap(),
        "--out",
        wav.to_str().unwrap(),
        "--log",
        log_path.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let wav_len = hound::WavReader::open(&wav).unwrap().duration();
    assert_eq!(wav_len, 8 * 60 * 16000);
    let log = log(&log_path);
    let d = decisions(&log);
    for e in &d {
        println!(
            "{:6.1} {} {}{}",
            e.0,
            e.1,
            e.2,
            if e.3 { " [review]" } else { "" }
        );
    }
    let has = |kind: &str, needle: &str| d.iter().find(|e| e.1 == kind && e.2.contains(needle));
    // each kind of bad input is named with its file, line and field
    let malformed = has("sensor", "not a row").or_else(|| has("sensor", "in.csv:41"));
    assert!(malformed.is_some(), "no event for the malformed line");
    assert!(
        has("sensor", "hr").is_some_and(|e| e.2.contains("in.csv:4")),
        "no event naming the bad heart rate"
    );
    // the file ends at 3 minutes: sensor lost, hold, drift back, escalation for review
    let lost = has("sensor", "no sensor data").expect("sensor loss reported");
    assert!(lost.0 > 180.0 && lost.0 < 200.0, "{lost:?}");
    assert!(has("decision", "drifting back").is_some());
    let esc = d
        .iter()
        .find(|e| e.1 == "escalation")
        .expect("an escalation");
    assert!(esc.3 && esc.2.contains("sensor lost"), "{esc:?}");
    assert!(has("decision", "grounding").is_some());
    // every second is logged, through the loss, and the summary closes the file
    let seconds = log.iter().filter(|r| r["record"] == "second").count();
    assert!(seconds >= 8 * 60 - 2, "{seconds}");
    assert_eq!(log.last().unwrap()["record"], "summary");
}

#[test]
fn a_corrupt_profile_is_kept_and_replaced_and_a_future_one_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    readings(&input);
    let profile = dir.path().join("me.json");
    std::fs::write(&profile, "{\"version\": 1, \"presets\": {\"relax\": [oops").unwrap();
    let run = |profile: &Path| {
        isochord(&[
            "render",
            "--preset",
            "relax",
            "--duration",
            "4m",
            "--sample-rate",
            "8000",
            "--biometrics",
            input.to_str().unwrap(),
            "--out",
            dir.path().join("s.wav").to_str().unwrap(),
            "--force",
            "--profile",
            profile.to_str().unwrap(),
        ])
    };
    let o = run(&profile);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("unreadable") && out.contains("me.json"),
        "{out}"
    );
    let backups: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("corrupt"))
        .collect();
    assert_eq!(backups.len(), 1, "one backup of the corrupt file");
    assert_eq!(
        std::fs::read_to_string(backups[0].path()).unwrap(),
        "{\"version\": 1, \"presets\": {\"relax\": [oops"
    );
    let fresh: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&profile).unwrap()).unwrap();
    assert_eq!(fresh["version"], 1);
    assert_eq!(
        fresh["presets"]["relax"]["sessions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // a second session reads it and records another
    let o = run(&profile);
    assert!(o.status.success(), "{}", text(&o));
    let again: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&profile).unwrap()).unwrap();
    assert_eq!(
        again["presets"]["relax"]["sessions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // a profile from a newer version is left exactly as it was
    let future = dir.path().join("future.json");
    let body = "{\"version\": 99, \"presets\": {}, \"something_new\": true}";
    std::fs::write(&future, body).unwrap();
    let o = run(&future);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("newer version"), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&future).unwrap(), body);
}

#[test]
fn the_simulated_listener_is_always_labelled() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("sim.jsonl");
    let o = isochord(&[
        "render",
        "--preset",
        "relax",
        "--duration",
        "3m",
        "--sample-rate",
        "8000",
        "--biometrics",
        "sim",
        "--out",
        dir.path().join("s.wav").to_str().unwrap(),
        "--log",
        log_path.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let log = log(&log_path);
    assert_eq!(log[0]["simulated"], true);
    assert!(decisions(&log).iter().any(|e| e.2.contains("SIMULATED")));
}

#[test]
fn a_model_that_cannot_be_used_leaves_the_session_on_the_rules_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    readings(&input);
    let garbage = dir.path().join("garbage.onnx");
    std::fs::write(&garbage, b"\x00\x01 this is not an ONNX model \xff").unwrap();
    let log_path = dir.path().join("s.jsonl");
    let o = isochord(&[
        "render",
        "--preset",
        "relax",
        "--duration",
        "2m",
        "--sample-rate",
        "8000",
        "--biometrics",
        input.to_str().unwrap(),
        "--model",
        garbage.to_str().unwrap(),
        "--out",
        dir.path().join("s.wav").to_str().unwrap(),
        "--log",
        log_path.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("garbage.onnx") && out.contains("rule-based"),
        "{out}"
    );
    let log = log(&log_path);
    assert_eq!(log[0]["estimator"], "rules");
    assert!(decisions(&log)
        .iter()
        .any(|e| e.1 == "estimate" && e.2.contains("garbage.onnx")));
    // and the session estimated arousal all the same
    assert!(log.iter().any(|r| r["model"]["estimator"] == "rules"));
}
