//! Content libraries on the command line: listing and checking them, and sessions that
//! go on without whatever a library cannot provide.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn isochord(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isochord"))
        .args(args)
        .output()
        .expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The 1 s, 440 Hz, −12 dBFS stereo tone the engine's decoding tests use.
fn tone() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine/tests/data/content/tone-a4-44100.wav")
}

/// A library in `dir` with a good loop (the tone, tagged `tags`) and a loop whose file
/// is missing (also tagged `tags`); returns its manifest.
fn library_with_a_missing_file(dir: &Path, tags: &str) -> PathBuf {
    std::fs::copy(tone(), dir.join("tone.wav")).unwrap();
    let manifest = dir.join("manifest.toml");
    std::fs::write(
        &manifest,
        format!(
            "[library]\nname = \"half-there\"\n\n\
             [[loop]]\nid = \"tone-loop\"\nfile = \"tone.wav\"\ntempo = 120.0\nbeats = 2\ntags = {tags}\n\n\
             [[loop]]\nid = \"lost-loop\"\nfile = \"loops/lost.ogg\"\ntags = {tags}\n"
        ),
    )
    .unwrap();
    manifest
}

/// Frames per channel, channels, rate, and the samples of a float WAV.
fn read_wav(path: &Path) -> (u32, u16, u32, Vec<f32>) {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    assert_eq!(spec.sample_format, hound::SampleFormat::Float);
    let frames = r.duration();
    let samples: Vec<f32> = r.samples::<f32>().map(Result::unwrap).collect();
    (frames, spec.channels, spec.sample_rate, samples)
}

/// Peak and RMS, dBFS.
fn levels(samples: &[f32]) -> (f64, f64) {
    let peak = samples.iter().fold(0.0f32, |m, s| m.max(s.abs())) as f64;
    let rms =
        (samples.iter().map(|s| (*s as f64).powi(2)).sum::<f64>() / samples.len() as f64).sqrt();
    (
        20.0 * peak.max(1e-12).log10(),
        20.0 * rms.max(1e-12).log10(),
    )
}

#[test]
fn check_passes_the_bundled_library_and_names_a_missing_file() {
    let o = isochord(&["content", "check"]);
    let out = stdout(&o);
    println!("{out}");
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    for (kind, id) in [
        ("instrument", "salamander-grand"),
        ("loop", "piano-arpeggio-70"),
        ("loop", "piano-wash-d"),
    ] {
        assert!(
            out.lines()
                .any(|l| l.starts_with("ok") && l.contains(kind) && l.contains(id)),
            "{id} not checked: {out}"
        );
    }
    assert_eq!(out.lines().filter(|l| l.starts_with("ok")).count(), 3);
    assert!(!out.contains("FAIL"), "{out}");
    assert!(out.contains("3 items loaded at 48000 Hz"), "{out}");
    assert!(out.contains("; 0 failed"), "{out}");

    let dir = tempfile::tempdir().unwrap();
    let manifest = library_with_a_missing_file(dir.path(), "[\"tone\"]");
    let o = isochord(&["content", "check", manifest.to_str().unwrap()]);
    let out = stdout(&o);
    println!("{out}");
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    assert!(
        out.lines()
            .any(|l| l.starts_with("ok") && l.contains("tone-loop")),
        "{out}"
    );
    let fail: Vec<&str> = out.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert_eq!(fail.len(), 1, "{out}");
    let missing = dir.path().join("loops/lost.ogg");
    assert!(fail[0].contains("lost-loop"), "{out}");
    assert!(fail[0].contains(&*missing.to_string_lossy()), "{out}");
    assert!(fail[0].contains("cannot read"), "{out}");
    assert!(
        out.contains("1 item loaded") && out.contains("; 1 failed"),
        "{out}"
    );
}

#[test]
fn a_render_goes_on_without_a_missing_loop_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = library_with_a_missing_file(dir.path(), "[\"piano\"]");
    let wav = dir.path().join("piano.wav");
    let o = isochord(&[
        "render",
        "--preset",
        "piano",
        "-d",
        "20s",
        "-o",
        wav.to_str().unwrap(),
        "--content",
        manifest.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    println!("{err}{}", stdout(&o));
    assert_eq!(o.status.code(), Some(0), "{err}");
    let missing = dir.path().join("loops/lost.ogg");
    let warning: Vec<&str> = err.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(warning.len(), 1, "{err}");
    assert!(warning[0].contains("loop lost-loop left out"), "{err}");
    assert!(warning[0].contains(&*missing.to_string_lossy()), "{err}");
    assert!(warning[0].contains("cannot read"), "{err}");

    let (frames, channels, rate, samples) = read_wav(&wav);
    assert_eq!((frames, channels, rate), (20 * 48_000, 2, 48_000));
    assert_eq!(samples.len(), 2 * 20 * 48_000);
    assert!(samples.iter().all(|s| s.is_finite()));
    let (peak, rms) = levels(&samples);
    println!("render with a missing loop: peak {peak:.1} dBFS, RMS {rms:.1} dBFS");
    assert!(
        rms > -50.0 && peak <= 0.0,
        "peak {peak} dBFS, RMS {rms} dBFS"
    );
    // every second has sound in it
    for (s, second) in samples.chunks(2 * 48_000).enumerate() {
        let (p, _) = levels(second);
        assert!(p > -60.0, "second {s}: peak {p} dBFS");
    }
}

#[test]
fn no_content_renders_and_a_broken_manifest_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("synth.wav");
    let o = isochord(&[
        "render",
        "--preset",
        "piano",
        "-d",
        "5s",
        "-o",
        wav.to_str().unwrap(),
        "--no-content",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    println!("{}", stderr(&o));
    let (frames, channels, rate, samples) = read_wav(&wav);
    assert_eq!((frames, channels, rate), (5 * 48_000, 2, 48_000));
    assert!(samples.iter().all(|s| s.is_finite()));
    let (peak, rms) = levels(&samples);
    println!("render --no-content: peak {peak:.1} dBFS, RMS {rms:.1} dBFS");
    assert!(rms > -50.0, "RMS {rms} dBFS");

    // a TOML syntax error on line 6
    let manifest = dir.path().join("broken.toml");
    std::fs::write(
        &manifest,
        "[library]\nname = \"broken\"\n\n[[loop]]\nid = \"a\"\nfile = a.wav\ntags = [\"piano\"]\n",
    )
    .unwrap();
    let out = dir.path().join("never.wav");
    let o = isochord(&[
        "render",
        "--preset",
        "piano",
        "-d",
        "5s",
        "-o",
        out.to_str().unwrap(),
        "--content",
        manifest.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    println!("{err}");
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("{}:6:", manifest.display())),
        "no file:line in {err}"
    );
    assert!(!out.exists(), "a file was written");

    // a manifest error found by validation names the field too
    std::fs::write(
        &manifest,
        "[[loop]]\nid = \"a\"\nfile = \"a.wav\"\ntempo = 70.0\ntags = [\"piano\"]\n",
    )
    .unwrap();
    let o = isochord(&[
        "render",
        "--preset",
        "piano",
        "-d",
        "5s",
        "-o",
        out.to_str().unwrap(),
        "--content",
        manifest.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    println!("{err}");
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("{}:1:", manifest.display())) && err.contains("loop.0.beats"),
        "{err}"
    );
    assert!(!out.exists(), "a file was written");

    // the two options contradict each other
    let o = isochord(&[
        "render",
        "--preset",
        "piano",
        "-d",
        "5s",
        "-o",
        out.to_str().unwrap(),
        "--content",
        manifest.to_str().unwrap(),
        "--no-content",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn list_shows_the_bundled_instrument_and_loops_with_their_tags() {
    let o = isochord(&["content", "list"]);
    let out = stdout(&o);
    println!("{out}");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        out.contains("libraries (searched in this order): isochord-bundled"),
        "{out}"
    );
    let line = |id: &str| {
        out.lines()
            .find(|l| l.split_whitespace().nth(1) == Some(id))
            .unwrap_or_else(|| panic!("{id} not listed: {out}"))
            .to_string()
    };
    let piano = line("salamander-grand");
    assert!(piano.starts_with("instrument"), "{piano}");
    assert!(piano.contains("18 samples"), "{piano}");
    assert!(piano.contains("tags: piano, acoustic, keys"), "{piano}");
    let arpeggio = line("piano-arpeggio-70");
    assert!(arpeggio.starts_with("loop"), "{arpeggio}");
    assert!(arpeggio.contains("8 beats at 70 BPM in D"), "{arpeggio}");
    assert!(
        arpeggio.contains("tags: piano, arpeggio, calm"),
        "{arpeggio}"
    );
    let wash = line("piano-wash-d");
    assert!(wash.starts_with("loop"), "{wash}");
    assert!(wash.contains("texture in D"), "{wash}");
    assert!(wash.contains("tags: texture, piano, calm, dark"), "{wash}");
    assert_eq!(out.lines().count(), 4, "{out}");

    // a given library is searched first and listed first
    let dir = tempfile::tempdir().unwrap();
    let manifest = library_with_a_missing_file(dir.path(), "[\"tone\", \"test\"]");
    let o = isochord(&["content", "list", "--content", manifest.to_str().unwrap()]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        out.contains("libraries (searched in this order): half-there, isochord-bundled"),
        "{out}"
    );
    let loops: Vec<&str> = out.lines().filter(|l| l.starts_with("loop")).collect();
    assert_eq!(loops.len(), 4, "{out}");
    assert!(
        loops[0].contains("tone-loop")
            && loops[0].contains("half-there")
            && loops[0].contains("2 beats at 120 BPM")
            && loops[0].contains("tags: tone, test"),
        "{out}"
    );
    // nothing at all without content
    let o = isochord(&["content", "list", "--no-content"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 1, "{}", stdout(&o));
}

#[test]
fn an_adaptive_session_logs_its_content_and_what_was_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = library_with_a_missing_file(dir.path(), "[\"piano\"]");
    let wav = dir.path().join("s.wav");
    let log = dir.path().join("s.jsonl");
    let o = isochord(&[
        "render",
        "--preset",
        "piano",
        "-d",
        "60s",
        "--biometrics",
        "sim",
        "-o",
        wav.to_str().unwrap(),
        "--log",
        log.to_str().unwrap(),
        "--content",
        manifest.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(&log).unwrap();
    let events: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .flat_map(|r| r["decisions"].as_array().cloned().unwrap_or_default())
        .filter(|e| e["kind"] == "content")
        .collect();
    for e in &events {
        println!("{}", e["message"]);
    }
    let missing = dir.path().join("loops/lost.ogg");
    let left_out: Vec<_> = events.iter().filter(|e| e["review"] == true).collect();
    assert_eq!(left_out.len(), 1, "{events:?}");
    assert!(left_out[0]["message"]
        .as_str()
        .unwrap()
        .contains(&*missing.to_string_lossy()));
    assert!(events
        .iter()
        .any(|e| e["message"].as_str().unwrap().contains("salamander-grand")));
}
