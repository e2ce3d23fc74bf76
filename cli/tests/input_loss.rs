//! What an input loses is said on the terminal: rejected rows, missing E4 files, an
//! input with no usable data at all (an error), content a preset does not use, an OSC
//! input open to the network.

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

/// Three minutes of readings with `bad` damaged rows among them.
fn readings(path: &Path, bad: usize) -> usize {
    let mut out = String::from("time,hr,rr_ms\n");
    let mut t = 0.0f64;
    let mut rows = 0;
    let mut damaged = 0;
    while t < 180.0 {
        let rr = 800.0 + 20.0 * (t * 0.7).sin();
        t += rr / 1000.0;
        rows += 1;
        if rows % 5 == 0 && damaged < bad {
            damaged += 1;
            match damaged % 3 {
                0 => out.push_str("garbage,,\n"),
                1 => out.push_str(&format!("{t:.3},NaN,{rr:.1}\n")),
                _ => out.push_str(&format!("{:.3},{:.1},{rr:.1}\n", t - 200.0, 60000.0 / rr)),
            }
        } else {
            out.push_str(&format!("{t:.3},{:.1},{rr:.1}\n", 60000.0 / rr));
        }
    }
    std::fs::write(path, out).unwrap();
    damaged
}

fn render(dir: &Path, input: &str, extra: &[&str]) -> Output {
    let out = dir.join("s.wav");
    let mut args = vec![
        "render",
        "--preset",
        "relax",
        "--duration",
        "3m",
        "--sample-rate",
        "8000",
        "--biometrics",
        input,
        "--out",
        s(&out),
        "--force",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    isochord(&args)
}

#[test]
fn rejected_rows_are_summed_up_on_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    let bad = readings(&input, 30);
    assert_eq!(bad, 30);
    let o = render(dir.path(), s(&input), &[]);
    assert!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    let line = err
        .lines()
        .find(|l| l.contains("readings rejected"))
        .unwrap_or_else(|| panic!("no summary line: {err}"));
    // each row carries two readings (hr, rr_ms): a garbage row is one rejection, a NaN
    // heart rate one, a row from before the session's start two
    assert!(
        line.contains(&format!("{}: 40 of ", input.display())),
        "{line}"
    );
}

#[test]
fn an_input_with_no_usable_data_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("junk.csv");
    let mut junk = String::from("time,hr\n");
    for i in 0..200 {
        junk.push_str(&format!("{i},NaN\nnot,a row\n"));
    }
    std::fs::write(&input, junk).unwrap();
    let o = render(dir.path(), s(&input), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("no usable readings (400 rejected"),
        "{}",
        text(&o)
    );

    // render-batch marks such a session failed, the good one ok
    let recs = dir.path().join("recs");
    std::fs::create_dir(&recs).unwrap();
    std::fs::copy(&input, recs.join("junk.csv")).unwrap();
    readings(&recs.join("good.csv"), 0);
    let out = dir.path().join("batch");
    let o = isochord(&[
        "render-batch",
        s(&recs),
        "--preset",
        "relax",
        "--duration",
        "3m",
        "--sample-rate",
        "8000",
        "--out",
        s(&out),
        "--quiet",
    ]);
    let csv = std::fs::read_to_string(out.join("summaries.csv")).unwrap_or_else(|e| {
        panic!("{e}: {}", text(&o));
    });
    let status = |name: &str| {
        csv.lines()
            .find(|l| l.starts_with(&format!("{name},")))
            .unwrap()
            .split(',')
            .nth(1)
            .unwrap()
            .to_string()
    };
    assert_eq!(status("junk"), "failed", "{csv}");
    assert_eq!(status("good"), "ok", "{csv}");
}

#[test]
fn an_e4_folder_missing_files_names_them() {
    let dir = tempfile::tempdir().unwrap();
    let e4 = dir.path().join("e4");
    std::fs::create_dir(&e4).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/e4_excerpt");
    for f in ["ACC.csv", "BVP.csv", "EDA.csv", "TEMP.csv"] {
        std::fs::copy(src.join(f), e4.join(f)).unwrap();
    }
    let o = render(dir.path(), s(&e4), &[]);
    assert!(
        text(&o).contains("the E4 folder has no HR.csv, IBI.csv"),
        "{}",
        text(&o)
    );
}

#[test]
fn content_a_preset_cannot_use_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/content/manifest.toml");
    let o = isochord(&[
        "render",
        "--preset",
        "relax",
        "--duration",
        "2s",
        "--sample-rate",
        "8000",
        "--content",
        s(&manifest),
        "--out",
        s(&dir.path().join("x.wav")),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("the preset has no [sound.loops] tags"),
        "{}",
        text(&o)
    );
}

#[test]
fn osc_on_every_interface_is_warned_about() {
    let o = isochord(&[
        "play",
        "--preset",
        "relax",
        "--duration",
        "2s",
        "--source",
        "osc://0.0.0.0:0",
        "--device",
        "no-such-device-for-this-test",
    ]);
    assert!(
        text(&o).contains("osc://0.0.0.0:0 listens on every network interface"),
        "{}",
        text(&o)
    );
}
