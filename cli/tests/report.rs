//! Session reports: figures checked against the timeline and the HRV code, the FHIR export
//! against the official R4 schema, the page in headless Chromium, interrupted sessions,
//! bad logs, and batch renders.

use isochord_engine::biometrics::hrv::time_domain;
use serde_json::Value;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const DEMO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../assets/demo/stress-predict-S02"
);

fn isochord(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isochord"))
        .args(args)
        .output()
        .expect("run isochord")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Renders an adaptive session with `--report dir`; returns the report folder.
fn render_report(dir: &Path, biometrics: &str, duration: &str) -> PathBuf {
    let report = dir.join("report");
    let wav = dir.join("session.wav");
    let o = isochord(&[
        "render",
        "--preset",
        "relax",
        "--biometrics",
        biometrics,
        "--duration",
        duration,
        "--sample-rate",
        "16000",
        "--out",
        wav.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "render failed: {}", text(&o));
    report
}

fn json(path: &Path) -> Value {
    let t = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&t).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// timeline.csv as columns of strings (no cell holds a comma or a quote).
fn timeline(path: &Path) -> (Vec<HashMap<String, String>>, Vec<String>) {
    let t = std::fs::read_to_string(path).unwrap();
    let mut lines = t.lines();
    let head: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            assert_eq!(cells.len(), head.len(), "ragged CSV line: {l}");
            head.iter()
                .cloned()
                .zip(cells.iter().map(|c| c.to_string()))
                .collect()
        })
        .collect();
    (rows, head)
}

fn num(row: &HashMap<String, String>, k: &str) -> Option<f64> {
    let v = &row[k];
    (!v.is_empty()).then(|| v.parse().unwrap_or_else(|_| panic!("{k} = {v}")))
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn close(what: &str, got: &Value, want: Option<f64>, tol: f64) {
    match (got.as_f64(), want) {
        (Some(g), Some(w)) => assert!((g - w).abs() <= tol, "{what}: summary {g}, timeline {w}"),
        (None, None) => {}
        (g, w) => panic!("{what}: summary {g:?}, timeline {w:?}"),
    }
}

#[test]
fn summary_figures_match_the_timeline_and_the_hrv_code() {
    let tmp = tempfile::tempdir().unwrap();
    let report = render_report(tmp.path(), "sim", "12m");
    let s = json(&report.join("summary.json"));
    let (rows, head) = timeline(&report.join("timeline.csv"));
    assert!(head.contains(&"rr_ms".to_string()));
    assert!(rows.len() >= 715, "{} seconds", rows.len());
    let t = |r: &HashMap<String, String>| num(r, "t_s").unwrap();
    let end = t(rows.last().unwrap());
    assert_eq!(s["session"]["recorded_duration_s"].as_f64(), Some(end));
    assert_eq!(s["session"]["partial"], false);
    let span = 300f64.min(end / 3.0);
    let base: Vec<_> = rows.iter().filter(|r| t(r) <= span).collect();
    let closing: Vec<_> = rows.iter().filter(|r| t(r) > end - span).collect();
    let avg = |rs: &[&HashMap<String, String>], k: &str| {
        mean(&rs.iter().filter_map(|r| num(r, k)).collect::<Vec<_>>())
    };
    close(
        "HR baseline",
        &s["heart_rate_bpm"]["baseline"],
        avg(&base, "hr_bpm"),
        0.006,
    );
    close(
        "HR closing",
        &s["heart_rate_bpm"]["closing"],
        avg(&closing, "hr_bpm"),
        0.006,
    );
    close(
        "EDA baseline",
        &s["eda_us"]["baseline"],
        avg(&base, "eda_us"),
        0.0006,
    );
    close(
        "EDA closing",
        &s["eda_us"]["closing"],
        avg(&closing, "eda_us"),
        0.0006,
    );
    close(
        "breathing baseline",
        &s["breathing_rate_per_min"]["baseline"],
        avg(&base, "resp_rate"),
        0.006,
    );
    close(
        "breathing closing",
        &s["breathing_rate_per_min"]["closing"],
        avg(&closing, "resp_rate"),
        0.006,
    );
    let usable = |rs: &[&HashMap<String, String>]| {
        mean(
            &rs.iter()
                .filter(|r| r["abstain"] == "0")
                .filter_map(|r| num(r, "arousal"))
                .collect::<Vec<_>>(),
        )
    };
    close(
        "arousal baseline",
        &s["arousal"]["baseline"],
        usable(&base),
        0.00006,
    );
    close(
        "arousal closing",
        &s["arousal"]["closing"],
        usable(&closing),
        0.00006,
    );
    assert!(
        s["arousal"]["closing"].as_f64().unwrap() < s["arousal"]["baseline"].as_f64().unwrap(),
        "the simulated listener calms"
    );

    // HRV: the same RR series through the biometrics code, and by hand
    let rr = |rs: &[&HashMap<String, String>]| -> Vec<f64> {
        rs.iter()
            .flat_map(|r| {
                r["rr_ms"]
                    .split(';')
                    .filter(|x| !x.is_empty())
                    .map(|x| x.parse::<f64>().unwrap())
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    for (name, series) in [("baseline", rr(&base)), ("closing", rr(&closing))] {
        assert!(series.len() > 100, "{name}: {} RR intervals", series.len());
        assert_eq!(
            s["rmssd_ms"][format!("{name}_beats")].as_u64(),
            Some(series.len() as u64)
        );
        let td = time_domain(&series, None);
        close(
            &format!("RMSSD {name}"),
            &s["rmssd_ms"][name],
            td.rmssd,
            0.006,
        );
        close(&format!("SDNN {name}"), &s["sdnn_ms"][name], td.sdnn, 0.006);
        let diffs: Vec<f64> = series.windows(2).map(|w| (w[1] - w[0]).powi(2)).collect();
        let rmssd = mean(&diffs).unwrap().sqrt();
        close(
            &format!("RMSSD {name} by hand"),
            &s["rmssd_ms"][name],
            Some(rmssd),
            0.006,
        );
        let m = mean(&series).unwrap();
        let sdnn = (series.iter().map(|x| (x - m).powi(2)).sum::<f64>()
            / (series.len() - 1) as f64)
            .sqrt();
        close(
            &format!("SDNN {name} by hand"),
            &s["sdnn_ms"][name],
            Some(sdnn),
            0.006,
        );
    }

    // time in each phase and band, data loss, time to calm
    let mut phases: HashMap<String, u64> = HashMap::new();
    for r in &rows {
        *phases.entry(r["phase"].clone()).or_default() += 1;
    }
    for (p, n) in &phases {
        assert_eq!(s["time_in_phase_s"][p].as_u64(), Some(*n), "phase {p}");
    }
    let total: u64 = s["time_in_arousal_band_s"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(total, rows.len() as u64);
    let high = rows
        .iter()
        .filter(|r| r["abstain"] == "0" && num(r, "arousal").is_some_and(|a| a >= 2.0 / 3.0))
        .count();
    assert_eq!(
        s["time_in_arousal_band_s"]["high"].as_u64(),
        Some(high as u64)
    );
    let empty = rows.iter().filter(|r| r["items"] == "0").count();
    assert_eq!(
        s["signal_quality"]["seconds_without_data"].as_u64(),
        Some(empty as u64)
    );
    let calm = (0..rows.len()).find(|&i| {
        i + 60 <= rows.len()
            && rows[i..i + 60]
                .iter()
                .all(|r| num(r, "policy_arousal").is_some_and(|a| a < 0.5))
    });
    close(
        "time to calm",
        &s["time_to_calm_s"],
        calm.map(|i| t(&rows[i]) - 1.0),
        1e-9,
    );
    assert!(
        calm.is_some(),
        "the simulated listener calms within the session"
    );
    // the engine's own figures are carried over
    let log = json_lines(&report.join("session.jsonl"));
    let summary = log.last().unwrap();
    assert_eq!(s["arousal"]["engine_start"], summary["arousal_start"]);
    let events = s["escalations"]["events"].as_array().unwrap().len() as u64;
    assert_eq!(s["escalations"]["count"].as_u64(), Some(events));
    assert_eq!(summary["escalations"].as_u64(), Some(events));
}

fn json_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Official FHIR R4 JSON schema (hl7.org/fhir/R4/fhir.schema.json), gzip-compressed.
fn fhir_schema() -> Value {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/fhir.schema.json.gz"
    );
    let mut s = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(p).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    serde_json::from_str(&s).unwrap()
}

/// LOINC's mod-10 check digit.
fn loinc_ok(code: &str) -> bool {
    let Some((body, check)) = code.split_once('-') else {
        return false;
    };
    let digits: Vec<u32> = body.chars().map(|c| c.to_digit(10).unwrap()).collect();
    let mut sum = 0;
    for (i, d) in digits.iter().rev().enumerate() {
        sum += if i % 2 == 0 {
            let x = d * 2;
            x / 10 + x % 10
        } else {
            *d
        };
    }
    check.parse::<u32>().ok() == Some((10 - sum % 10) % 10)
}

#[test]
fn fhir_bundle_is_valid_r4_with_the_right_codes_and_units() {
    let tmp = tempfile::tempdir().unwrap();
    let report = render_report(tmp.path(), "sim", "8m");
    let with_refs = tmp.path().join("with-refs");
    let o = isochord(&[
        "report",
        report.join("session.jsonl").to_str().unwrap(),
        "--out",
        with_refs.to_str().unwrap(),
        "--patient",
        "Patient/pseudo-17",
        "--encounter",
        "Encounter/e-4",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let page = std::fs::read_to_string(with_refs.join("report.html")).unwrap();
    assert!(
        page.contains("<td>Patient/pseudo-17</td>"),
        "the pseudonym heads the page"
    );
    let validator = jsonschema::validator_for(&fhir_schema()).expect("the FHIR schema compiles");
    // the schema does catch mistakes: a bad status code, a Procedure without its subject
    let mut bad = json(&report.join("fhir-bundle.json"));
    bad["entry"][1]["resource"]["status"] = "done".into();
    assert!(
        !validator.is_valid(&bad),
        "an unknown Observation status is rejected"
    );
    let mut bad = json(&report.join("fhir-bundle.json"));
    bad["entry"][0]["resource"]
        .as_object_mut()
        .unwrap()
        .remove("subject");
    assert!(!validator.is_valid(&bad), "a Procedure needs a subject");
    for (dir, patient) in [(&report, None), (&with_refs, Some("Patient/pseudo-17"))] {
        let b = json(&dir.join("fhir-bundle.json"));
        let errors: Vec<String> = validator
            .iter_errors(&b)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .take(5)
            .collect();
        assert!(
            errors.is_empty(),
            "{}: not valid FHIR R4: {errors:#?}",
            dir.display()
        );
        assert_eq!(b["resourceType"], "Bundle");
        let resources: Vec<&Value> = b["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["resource"])
            .collect();
        let of = |t: &str| {
            resources
                .iter()
                .filter(|r| r["resourceType"] == t)
                .copied()
                .collect::<Vec<_>>()
        };
        let procedure = of("Procedure");
        assert_eq!(procedure.len(), 1);
        assert_eq!(procedure[0]["status"], "completed");
        match patient {
            Some(p) => assert_eq!(procedure[0]["subject"]["reference"], p),
            None => assert_eq!(
                procedure[0]["subject"]["extension"][0]["valueCode"], "unknown",
                "no invented patient"
            ),
        }
        let prov = of("Provenance");
        assert_eq!(prov.len(), 1);
        assert!(prov[0]["agent"][0]["who"]["display"]
            .as_str()
            .unwrap()
            .contains("0.1.0"));
        let device = of("Device");
        assert!(
            device[0]["version"].to_string().contains("rules"),
            "the model version is named"
        );
        let obs = of("Observation");
        let expected = [("8867-4", "/min"), ("9279-1", "/min"), ("80404-7", "ms")];
        let mut seen = HashMap::new();
        for o in &obs {
            let c = &o["code"]["coding"][0];
            let code = c["code"].as_str().unwrap();
            let unit = o["valueQuantity"]["code"]
                .as_str()
                .or(o["valueSampledData"]["origin"]["code"].as_str())
                .unwrap();
            assert!(
                ["/min", "ms", "uS", "1"].contains(&unit),
                "UCUM unit {unit}"
            );
            let system = o
                .get("valueQuantity")
                .map_or(&o["valueSampledData"]["origin"]["system"], |q| &q["system"]);
            assert_eq!(system, "http://unitsofmeasure.org");
            if c["system"] == "http://loinc.org" {
                assert!(loinc_ok(code), "LOINC check digit of {code}");
                let (_, u) = expected
                    .iter()
                    .find(|(k, _)| *k == code)
                    .unwrap_or_else(|| panic!("unexpected LOINC {code}"));
                assert_eq!(unit, *u, "unit of {code}");
            } else {
                assert!(
                    ["rmssd", "eda-level", "arousal"].contains(&code),
                    "local code {code}"
                );
            }
            let display = c["display"].as_str().unwrap().to_lowercase();
            assert!(
                !(code == "80404-7" && display.contains("rmssd")),
                "80404-7 is SDNN, never RMSSD"
            );
            assert!(!(code == "rmssd" && c["system"] == "http://loinc.org"));
            assert_eq!(o["partOf"][0]["reference"], b["entry"][0]["fullUrl"]);
            assert_eq!(
                o.get("subject").and_then(|s| s["reference"].as_str()),
                patient
            );
            *seen.entry(code.to_string()).or_insert(0) += 1;
            if let Some(sd) = o.get("valueSampledData") {
                assert_eq!(sd["period"], 1000);
                let n = sd["data"].as_str().unwrap().split(' ').count();
                assert!(n > 400, "{code}: {n} samples");
            }
        }
        for code in [
            "8867-4",
            "9279-1",
            "80404-7",
            "rmssd",
            "eda-level",
            "arousal",
        ] {
            assert_eq!(
                seen.get(code),
                Some(&3),
                "{code}: baseline, closing and series"
            );
        }
    }
}

fn chromium() -> PathBuf {
    const MISSING: &str = "chromium not found: the report page test needs Debian's `chromium` package (run `make setup`, or set CHROMIUM to the browser)";
    if let Some(p) = std::env::var_os("CHROMIUM") {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "{MISSING}; CHROMIUM={} is not a file",
            p.display()
        );
        return p;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    ["chromium", "chromium-browser"]
        .iter()
        .find_map(|n| {
            std::env::split_paths(&path)
                .map(|d| d.join(n))
                .find(|c| c.is_file())
        })
        .expect(MISSING)
}

/// Runs chromium headless on `args`, killing it (by pid) if it takes over a minute.
fn run_chromium(args: &[&str], profile: &Path) -> (String, String) {
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--no-first-run",
            "--allow-file-access-from-files",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
            let _ = child.wait();
            panic!("chromium did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    (t_out.join().unwrap(), t_err.join().unwrap())
}

#[test]
fn report_page_renders_in_headless_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let report = render_report(tmp.path(), DEMO, "40m");
    let page = std::fs::read_to_string(report.join("report.html")).unwrap();
    for remote in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(
            !page.contains(remote),
            "the page loads nothing from the network ({remote})"
        );
    }
    assert!(
        page.contains("<audio id=\"audio\"") && page.contains("src=\"../session.wav\""),
        "audio player with a relative path"
    );
    assert!(page.contains("Not a diagnostic device"));
    assert!(page.contains("<table id=\"decisions\">"));
    let url = format!("file://{}", report.join("report.html").display());
    let (dom, log) = run_chromium(&["--dump-dom", &url], &tmp.path().join("profile-dom"));
    let console: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    assert!(
        dom.contains("data-ready=\"1\""),
        "the page's script ran:\n{}",
        &dom[..dom.len().min(500)]
    );
    for name in ["heart", "arousal", "breathing", "sound"] {
        let i = dom
            .find(&format!("id=\"plot-{name}\""))
            .unwrap_or_else(|| panic!("plot {name} missing"));
        let tag = &dom[i..i + dom[i..].find('>').unwrap()];
        let attr = |k: &str| -> f64 {
            let j = tag
                .find(&format!("{k}=\""))
                .unwrap_or_else(|| panic!("{name}: no {k} in {tag}"))
                + k.len()
                + 2;
            tag[j..j + tag[j..].find('"').unwrap()].parse().unwrap()
        };
        assert!(attr("data-rendered-width") > 400.0, "{name}: {tag}");
        assert!(attr("data-rendered-height") > 150.0, "{name}: {tag}");
        assert!(attr("data-shapes") > 20.0, "{name}: {tag}");
    }
    let shot = Path::new(env!("CARGO_BIN_EXE_isochord"))
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("report-screenshot.png");
    let _ = std::fs::remove_file(&shot);
    run_chromium(
        &[
            "--window-size=1100,3200",
            "--hide-scrollbars",
            &format!("--screenshot={}", shot.display()),
            &url,
        ],
        &tmp.path().join("profile-shot"),
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("{}: {e}", shot.display()));
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 50_000,
        "screenshot {} bytes",
        png.len()
    );
    for name in ["heart", "arousal", "breathing", "sound"] {
        let p = std::fs::read(report.join(format!("plot-{name}.png"))).unwrap();
        assert!(
            p.starts_with(b"\x89PNG") && p.len() > 10_000,
            "plot-{name}.png"
        );
    }
}

#[test]
fn an_interrupted_render_still_yields_a_partial_report() {
    let tmp = tempfile::tempdir().unwrap();
    let report = tmp.path().join("report");
    let log = report.join("session.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_isochord"))
        .args([
            "render",
            "--preset",
            "relax",
            "--biometrics",
            "sim",
            "--duration",
            "3h",
            "--sample-rate",
            "48000",
            "--quiet",
        ])
        .arg("--out")
        .arg(tmp.path().join("s.wav"))
        .arg("--report")
        .arg(&report)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::fs::metadata(&log).map_or(0, |m| m.len()) < 300_000 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the log did not grow"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "render ended before the interrupt"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", text(&o));
    let s = json(&report.join("summary.json"));
    assert_eq!(s["session"]["partial"], true);
    assert!(s["session"]["partial_reason"]
        .as_str()
        .unwrap()
        .contains("stopped early"));
    assert!(s["session"]["recorded_duration_s"].as_f64().unwrap() < 3.0 * 3600.0);
    let page = std::fs::read_to_string(report.join("report.html")).unwrap();
    assert!(page.contains("id=\"partial\""));
    let b = json(&report.join("fhir-bundle.json"));
    assert_eq!(b["entry"][0]["resource"]["status"], "stopped");
    let validator = jsonschema::validator_for(&fhir_schema()).unwrap();
    assert!(validator.is_valid(&b));

    // a log cut before its summary line (the process died) is reported as partial too
    let text_log = std::fs::read_to_string(&log).unwrap();
    let cut: Vec<&str> = text_log.lines().collect();
    let died = tmp.path().join("died.jsonl");
    std::fs::write(&died, cut[..cut.len() - 1].join("\n") + "\n").unwrap();
    let o = isochord(&[
        "report",
        died.to_str().unwrap(),
        "--out",
        tmp.path().join("died").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("partial session"));
    let s = json(&tmp.path().join("died/summary.json"));
    assert_eq!(s["session"]["partial"], true);
    assert!(s["session"]["partial_reason"]
        .as_str()
        .unwrap()
        .contains("without its summary line"));
}

#[test]
fn a_torn_last_line_is_left_out_and_the_session_reported_partial() {
    let tmp = tempfile::tempdir().unwrap();
    let report = render_report(tmp.path(), "sim", "2m");
    let good = std::fs::read_to_string(report.join("session.jsonl")).unwrap();
    let lines: Vec<&str> = good.lines().collect();
    // a process killed while writing line 51
    let mut torn = lines[..50].join("\n");
    torn.push('\n');
    torn.push_str(&lines[50][..lines[50].len() / 2]);
    let p = tmp.path().join("killed.jsonl");
    std::fs::write(&p, torn).unwrap();
    let out = tmp.path().join("killed-report");
    let o = isochord(&[
        "report",
        p.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("killed.jsonl:51: the last line was cut off"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("partial session"), "{}", text(&o));
    let s = json(&out.join("summary.json"));
    assert_eq!(s["session"]["partial"], true);
    let reason = s["session"]["partial_reason"].as_str().unwrap();
    assert!(
        reason.contains("its last line, 51, was cut off"),
        "{reason}"
    );
    // the 49 whole seconds are reported (line 1 is the header)
    let csv = std::fs::read_to_string(out.join("timeline.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 49);
    // a torn line in the middle is still refused
    let mut middle = lines[..20].join("\n");
    middle.push('\n');
    middle.push_str(&lines[20][..lines[20].len() / 2]);
    middle.push('\n');
    middle.push_str(&lines[21..].join("\n"));
    let p = tmp.path().join("middle.jsonl");
    std::fs::write(&p, middle).unwrap();
    let o = isochord(&[
        "report",
        p.to_str().unwrap(),
        "--out",
        tmp.path().join("m").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("middle.jsonl:21: not valid JSON"),
        "{}",
        text(&o)
    );
}

#[test]
fn bad_logs_fail_naming_the_line() {
    let tmp = tempfile::tempdir().unwrap();
    let report = render_report(tmp.path(), "sim", "2m");
    let good = std::fs::read_to_string(report.join("session.jsonl")).unwrap();
    let lines: Vec<&str> = good.lines().collect();
    let with = |i: usize, new: &str| {
        let mut v: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        v[i] = new.to_string();
        v.join("\n") + "\n"
    };
    let no_policy = {
        let mut v: Value = serde_json::from_str(lines[3]).unwrap();
        v.as_object_mut().unwrap().remove("policy");
        with(3, &v.to_string())
    };
    let backwards = {
        let mut v: Value = serde_json::from_str(lines[10]).unwrap();
        v["t"] = serde_json::json!(2.0);
        with(10, &v.to_string())
    };
    let future = {
        let mut v: Value = serde_json::from_str(lines[0]).unwrap();
        v["format_version"] = serde_json::json!(99);
        with(0, &v.to_string())
    };
    let after_summary = format!(
        ":{}: a \"second\" record after the summary",
        lines.len() + 1
    );
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "garbage",
            with(7, "{\"record\":\"second\", oops"),
            ":8: not valid JSON",
        ),
        (
            "no-header",
            lines[1..].join("\n"),
            ":1: the first record must be the header",
        ),
        (
            "no-policy",
            no_policy,
            ":4: second record without \"policy\"",
        ),
        ("backwards", backwards, ":11: time goes backwards"),
        ("future", future, ":1: log format version 99 is newer"),
        ("empty", String::new(), ":1: empty file"),
        (
            "after-summary",
            good.clone() + lines[5] + "\n",
            &after_summary,
        ),
    ];
    for (name, content, want) in &cases {
        let p = tmp.path().join(format!("{name}.jsonl"));
        std::fs::write(&p, content).unwrap();
        let out = tmp.path().join(format!("{name}-report"));
        let o = isochord(&[
            "report",
            p.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", text(&o));
        let msg = String::from_utf8_lossy(&o.stderr);
        assert!(
            msg.contains(&format!("{name}.jsonl{want}")),
            "{name}: {msg}"
        );
        assert!(!out.exists(), "{name}: no report for a bad log");
    }
}

#[test]
fn render_batch_renders_each_recording_and_skips_failures() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("recordings");
    std::fs::create_dir(&input).unwrap();
    std::os::unix::fs::symlink(DEMO, input.join("S02")).unwrap();
    std::os::unix::fs::symlink(DEMO, input.join("S02-again")).unwrap();
    std::fs::write(input.join("broken.csv"), "this is not,a recording\n1,2,3\n").unwrap();
    std::fs::write(input.join("ignored.txt"), "not a recording").unwrap();
    let out = tmp.path().join("out");
    let o = isochord(&[
        "render-batch",
        input.to_str().unwrap(),
        "--preset",
        "relax",
        "--out",
        out.to_str().unwrap(),
        "--duration",
        "6m",
        "--sample-rate",
        "16000",
    ]);
    assert_eq!(o.status.code(), Some(1), "one failure: {}", text(&o));
    let all = text(&o);
    assert!(
        all.contains("failed: broken") && all.contains("(skipped)"),
        "{all}"
    );
    assert!(all.contains("2 of 3 sessions rendered"), "{all}");
    for name in ["S02", "S02-again"] {
        for f in [
            "session.wav",
            "session.jsonl",
            "summary.json",
            "report.html",
            "fhir-bundle.json",
            "plot-heart.png",
        ] {
            assert!(out.join(name).join(f).is_file(), "{name}/{f}");
        }
    }
    let csv = std::fs::read_to_string(out.join("summaries.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[0].starts_with("recording,status,error,render_s,partial"));
    assert!(
        lines[1].starts_with("S02,ok,,") && lines[2].starts_with("S02-again,ok,,"),
        "{csv}"
    );
    assert!(lines[3].starts_with("broken,failed,"), "{csv}");
    assert_eq!(
        lines[1].split(',').skip(4).collect::<Vec<_>>(),
        lines[2].split(',').skip(4).collect::<Vec<_>>(),
        "same input, same figures"
    );
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(index.contains("href=\"S02/report.html\"") && index.contains("failed:"));
}
