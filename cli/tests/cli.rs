//! The `isochord` command as a user meets it: listings, renders, and clear failures that
//! leave nothing half-written behind.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn isochord(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isochord"))
        .args(args)
        .output()
        .expect("runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn presets_are_listed_and_shown() {
    let o = isochord(&["presets"]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    for name in ["sleep", "relax", "focus", "uplift"] {
        assert!(out.contains(name), "{out}");
    }
    let o = isochord(&["presets", "show", "sleep"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("name = \"sleep\""), "{text}");
    let o = isochord(&["presets", "show", "nap"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn renders_a_valid_wav_in_each_format() {
    let dir = tempfile::tempdir().unwrap();
    for (format, bits) in [("f32", 32), ("s24", 24), ("s16", 16)] {
        let out = dir.path().join(format!("{format}.wav"));
        let o = isochord(&[
            "render",
            "--preset",
            "focus",
            "--duration",
            "3s",
            "--sample-rate",
            "44100",
            "--format",
            format,
            "--out",
            out.to_str().unwrap(),
            "--seed",
            "5",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            stdout.contains("RMS") && stdout.contains("peak"),
            "{stdout}"
        );
        let r = hound::WavReader::open(&out).unwrap();
        assert_eq!(r.spec().bits_per_sample, bits);
        assert_eq!(r.spec().sample_rate, 44_100);
        assert_eq!(r.duration(), 3 * 44_100);
    }
    assert_eq!(files_in(dir.path()), ["f32.wav", "s16.wav", "s24.wav"]);
}

#[test]
fn bad_input_fails_clearly_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.wav");
    let out_s = out.to_str().unwrap();
    let bad_preset = dir.path().join("bad.toml");
    std::fs::write(
        &bad_preset,
        "name = \"bad\"\ndescription = \"d\"\nduration = \"1m\"\n\n[sound.pad]\ngain = 0.5\nresonance = 2.0\n",
    )
    .unwrap();
    let unknown_field = dir.path().join("typo.toml");
    std::fs::write(
        &unknown_field,
        "name = \"t\"\ndescription = \"d\"\nduration = \"1m\"\n[sound.start]\ntempoo = 60\n",
    )
    .unwrap();
    let bad_automation = dir.path().join("arc.csv");
    std::fs::write(
        &bad_automation,
        "time,tempo,brightness\n0,60,0.5\n1m,70,bright\n",
    )
    .unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--preset", "nap"], "sleep, relax, focus, uplift"),
        (
            vec!["--preset", bad_preset.to_str().unwrap()],
            "bad.toml:7:13: field `sound.pad.resonance`: 2 is outside",
        ),
        (
            vec!["--preset", unknown_field.to_str().unwrap()],
            "typo.toml:5:1: unknown field `tempoo`",
        ),
        (
            vec![
                "--preset",
                "relax",
                "--automation",
                bad_automation.to_str().unwrap(),
            ],
            "arc.csv:3: field `brightness`: `bright` is not a number",
        ),
        (
            vec!["--preset", "relax", "--duration", "10x"],
            "`10x`: `x` is not a unit",
        ),
        (
            vec!["--preset", "relax", "--sample-rate", "100"],
            "100 is not in 8000..=192000",
        ),
        (
            vec!["--preset", "relax", "--format", "mp3"],
            "[possible values: f32, s24, s16, flac, flac16, opus]",
        ),
        (
            vec!["--preset", "relax", "--automation", "/nonexistent/a.csv"],
            "/nonexistent/a.csv: cannot read",
        ),
    ];
    for (extra, expect) in cases {
        let mut args = vec!["render", "--out", out_s];
        args.extend(extra.iter());
        if !extra.contains(&"--duration") {
            args.extend(["--duration", "2s"]);
        }
        let o = isochord(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(expect),
            "{args:?}: expected `{expect}` in:\n{err}"
        );
    }
    let o = isochord(&[
        "render",
        "--preset",
        "relax",
        "--out",
        "/nonexistent/dir/x.wav",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/dir: the directory does not exist"));
    let mut left = files_in(dir.path());
    left.retain(|f| !f.ends_with(".toml") && !f.ends_with(".csv"));
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn ctrl_c_finalises_a_valid_faded_wav() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("long.wav");
    let child = Command::new(env!("CARGO_BIN_EXE_isochord"))
        .args(["render", "--preset", "sleep", "--duration", "2h", "--out"])
        .arg(&out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // wait until audio is being written, then interrupt
    let started = Instant::now();
    loop {
        let busy = files_in(dir.path()).iter().any(|f| f.ends_with(".partial"));
        if busy && started.elapsed() > Duration::from_millis(800) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "render never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert!(stderr(&o).contains("stopped early"), "{}", stderr(&o));
    let mut r = hound::WavReader::open(&out).expect("a valid WAV");
    let frames = r.duration() as f64 / 48_000.0;
    assert!(frames > 2.0 && frames < 3600.0, "{frames} s");
    let samples: Vec<f32> = r.samples::<f32>().map(|s| s.unwrap()).collect();
    assert!(samples.iter().all(|s| s.is_finite()));
    let tail = &samples[samples.len() - 960..];
    assert!(tail.iter().all(|s| s.abs() < 1e-4), "faded out to silence");
    assert_eq!(files_in(dir.path()), ["long.wav"], "no partial files left");
}

#[test]
fn features_from_a_wfdb_record_and_an_e4_folder() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("f.csv");
    let hea = root.join("engine/tests/data/biometrics/mitbih/100.hea");
    let o = isochord(&[
        "features",
        "--input",
        hea.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let hr_col = header.iter().position(|c| *c == "mean_hr").unwrap();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // 30:05 of record, 60 s windows every 5 s, full windows only
    assert!((345..=350).contains(&rows.len()), "{} windows", rows.len());
    let hr: Vec<f64> = rows.iter().filter_map(|r| r[hr_col].parse().ok()).collect();
    let mean = hr.iter().sum::<f64>() / hr.len() as f64;
    // MIT-BIH 100: 2273 beats in 30:05, about 75.6 bpm
    assert!((mean - 75.6).abs() < 1.5, "mean HR {mean}");

    let e4 = root.join("tests/data/e4_excerpt");
    let o = isochord(&["features", "--input", e4.to_str().unwrap(), "--hop", "30"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.lines().count() >= 5, "{stdout}");
    assert!(stdout
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .any(|c| !c.is_empty()));

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "time,hr\n0,70\n1,seventy\n2,71\n").unwrap();
    let o = isochord(&["features", "--input", bad.to_str().unwrap()]);
    assert!(o.status.success(), "a bad row is reported and skipped");
    assert!(stderr(&o).contains("bad.csv:3"), "{}", stderr(&o));
    let o = isochord(&["features", "--input", "/nonexistent.csv"]);
    assert_eq!(o.status.code(), Some(2));
}
