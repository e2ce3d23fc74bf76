//! `isochord model info` and `isochord model eval` as a user meets them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn isochord(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isochord"))
        .args(args)
        .output()
        .expect("runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn mood(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../engine/tests/data/mood")
        .join(rel)
}

fn pooled(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .find(|l| l.starts_with("pooled"))
        .unwrap_or_else(|| panic!("no pooled line in {stdout}"))
        .split_whitespace()
        .map(String::from)
        .collect()
}

#[test]
fn info_prints_the_contract_of_the_bundled_model() {
    let o = isochord(&["model", "info"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    for expect in [
        "stress-lr",
        "mean_hr",
        "eda_tonic",
        "scr_rate",
        "baseline_zscore",
        "calm (arousal 0)",
        "aroused (arousal 1)",
        "LOSO",
        "not a diagnostic device",
    ] {
        assert!(out.contains(expect), "`{expect}` in\n{out}");
    }
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/models/stress-lr.onnx");
    let o = isochord(&["model", "info", shipped.to_str().unwrap()]);
    assert!(o.status.success());
    assert!(text(&o).0.contains("stress-lr.onnx"));
}

#[test]
fn info_refuses_a_broken_model_clearly() {
    for (file, expect) in [
        ("garbage.onnx", "not a usable ONNX model"),
        ("wrong_width.onnx", "expected [1, 2]"),
        ("missing_metadata.onnx", "expected the keys"),
    ] {
        let path = mood("bad").join(file);
        let o = isochord(&["model", "info", path.to_str().unwrap()]);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(file) && err.contains(expect), "{err}");
    }
}

#[test]
fn eval_scores_e4_folders_and_feature_tables_alike() {
    let e4 = mood("S05_excerpt");
    let o = isochord(&["model", "eval", "--data", e4.to_str().unwrap()]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        out.contains("AUC") && out.contains("ECE") && out.contains("in-sample"),
        "{out}"
    );
    let direct = pooled(&out);
    let auc: f64 = direct[3].parse().unwrap();
    assert!((0.0..=1.0).contains(&auc), "{out}");

    // the same windows through a feature table written by `isochord features --labels`
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("t.csv");
    let o = isochord(&[
        "features",
        "--quiet",
        "--input",
        e4.to_str().unwrap(),
        "--labels",
        e4.join("labels.csv").to_str().unwrap(),
        "--out",
        table.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o).1);
    let header = std::fs::read_to_string(&table).unwrap();
    assert!(header
        .lines()
        .next()
        .unwrap()
        .ends_with(",label,label_purity"));
    let o = isochord(&["model", "eval", "--data", table.to_str().unwrap()]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(
        pooled(&out),
        direct,
        "table and folder give the same scores"
    );

    // the rule-based estimator on the same data
    let o = isochord(&["model", "eval", "--rules", "--data", e4.to_str().unwrap()]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.starts_with("rules on"), "{out}");

    // a folder of E4 folders with one label file matched by subject
    let root = dir.path().join("set");
    let s05 = root.join("S05");
    std::fs::create_dir_all(&s05).unwrap();
    for f in ["EDA.csv", "HR.csv", "IBI.csv", "TEMP.csv"] {
        std::fs::copy(e4.join(f), s05.join(f)).unwrap();
    }
    let labels = std::fs::read_to_string(e4.join("labels.csv")).unwrap();
    let mut with_subject = String::from("participant,time,label\n");
    for l in labels.lines().skip(1) {
        with_subject += &format!("5,{l}\n9,{l}\n");
    }
    let lf = dir.path().join("labels.csv");
    std::fs::write(&lf, with_subject).unwrap();
    let o = isochord(&[
        "model",
        "eval",
        "--data",
        root.to_str().unwrap(),
        "--labels",
        lf.to_str().unwrap(),
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(pooled(&out), direct, "{out}");
}

#[test]
fn eval_fails_clearly() {
    let e4 = mood("S05_excerpt");
    let bad = mood("bad/wrong_unit.onnx");
    let o = isochord(&[
        "model",
        "eval",
        "--model",
        bad.to_str().unwrap(),
        "--data",
        e4.to_str().unwrap(),
    ]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("wrong_unit.onnx") && err.contains("/min"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("nolabel.csv");
    std::fs::write(&t, "start_s,end_s,mean_hr\n0,60,70\n").unwrap();
    let o = isochord(&["model", "eval", "--data", t.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("`label` column"), "{}", text(&o).1);

    let o = isochord(&["model", "eval", "--data", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("E4"), "{}", text(&o).1);
}
