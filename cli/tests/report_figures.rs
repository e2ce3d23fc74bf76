//! The report's figures as a clinician reads them, each recomputed here: beat counts,
//! the decision log's order, the recording's own dates, units and explanations.

use serde_json::Value;
use std::path::{Path, PathBuf};
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

fn json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// Renders a session over `input` with a report; returns the report folder.
fn report(dir: &Path, input: &str, duration: &str) -> PathBuf {
    let out = dir.join("report");
    let o = isochord(&[
        "render",
        "--preset",
        "relax",
        "--duration",
        duration,
        "--sample-rate",
        "8000",
        "--biometrics",
        input,
        "--out",
        s(&dir.join("s.wav")),
        "--report",
        s(&out),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    out
}

/// The timeline as (header, rows).
fn timeline(dir: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let t = std::fs::read_to_string(dir.join("timeline.csv")).unwrap();
    let mut lines = t.lines();
    let head: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    (head, rows)
}

/// "1h02m05s", "25m52s", "17s", "2.5s" as seconds.
fn seconds(text: &str) -> f64 {
    let mut total = 0.0;
    let mut num = String::new();
    for c in text.chars() {
        match c {
            'h' => {
                total += 3600.0 * num.parse::<f64>().unwrap();
                num.clear();
            }
            'm' => {
                total += 60.0 * num.parse::<f64>().unwrap();
                num.clear();
            }
            's' => {
                total += num.parse::<f64>().unwrap();
                num.clear();
            }
            c => num.push(c),
        }
    }
    total
}

#[test]
fn beats_are_counted_once_and_rejected_never_exceed_the_total() {
    let dir = tempfile::tempdir().unwrap();
    let out = report(dir.path(), "sim", "10m");
    let sq = json(&out.join("summary.json"))["signal_quality"].clone();
    let (beats, rejected) = (
        sq["beats"].as_u64().expect("a whole number"),
        sq["rejected_beats"].as_u64().expect("a whole number"),
    );
    // recomputed: feature windows 60 s long that do not overlap, from the first
    let (head, rows) = timeline(&out);
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let (t, b, r) = (col("t_s"), col("win_beats"), col("win_rejected_beats"));
    let (mut want_b, mut want_r, mut next) = (0u64, 0u64, f64::NEG_INFINITY);
    for row in &rows {
        if row[b].is_empty() {
            continue;
        }
        let end: f64 = row[t].parse().unwrap();
        // the window completes in the second ending at t: its end is within (t-1, t]
        if end - 60.0 + 1.0 > next {
            next = end;
            want_b += row[b].parse::<f64>().unwrap() as u64;
            want_r += row[r].parse::<f64>().unwrap_or(0.0) as u64;
        }
    }
    assert_eq!((beats, rejected), (want_b, want_r));
    // ten minutes at 50-100 beats a minute: each beat counted once
    assert!(
        (450..=1100).contains(&(beats + rejected)),
        "{beats} + {rejected}"
    );
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        page.contains(&format!(
            "{rejected} of {} beats were rejected",
            beats + rejected
        )),
        "beats sentence"
    );
}

#[test]
fn the_decision_log_is_in_time_order_with_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = report(dir.path(), "sim", "10m");
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    let table = &page[page.find("<table id=\"decisions\">").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    let times: Vec<f64> = table
        .split("<tr")
        .skip(2)
        .map(|row| {
            let cell = &row[row.find("<td>").unwrap() + 4..];
            seconds(&cell[..cell.find("</td>").unwrap()])
        })
        .collect();
    assert!(times.len() > 5, "{times:?}");
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "out of order: {times:?}"
    );
    let summary = &page[page.find("id=\"decision-summary\"").unwrap()..];
    assert!(
        summary.contains(&format!("{} decisions in time order", times.len())),
        "{}",
        &summary[..200]
    );
}

fn e4_start(dir: &Path) -> String {
    let start = ["ACC", "BVP", "EDA", "HR", "TEMP"]
        .iter()
        .map(|f| {
            let t = std::fs::read_to_string(dir.join(format!("{f}.csv"))).unwrap();
            t.lines()
                .next()
                .unwrap()
                .split(',')
                .next()
                .unwrap()
                .parse::<f64>()
                .unwrap()
        })
        .fold(f64::INFINITY, f64::min);
    let o = Command::new("date")
        .args([
            "-u",
            "-d",
            &format!("@{}", start.floor()),
            "+%Y-%m-%dT%H:%M:%SZ",
        ])
        .output()
        .unwrap();
    String::from_utf8(o.stdout).unwrap().trim().to_string()
}

/// The notes of the bundle's Procedure, joined.
fn procedure_notes(bundle: &Value) -> String {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == "Procedure")
        .flat_map(|r| r["note"].as_array().cloned().unwrap_or_default())
        .filter_map(|n| n["text"].as_str().map(str::to_string))
        .collect::<Vec<_>>()
        .join(" | ")
}

#[test]
fn a_replayed_recording_carries_its_own_dates() {
    let dir = tempfile::tempdir().unwrap();
    let e4 = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/e4_excerpt");
    let when = e4_start(&e4);
    assert!(when.starts_with("2019"), "{when}");
    let out = report(dir.path(), s(&e4), "3m");
    let sess = json(&out.join("summary.json"))["session"].clone();
    assert_eq!(sess["recording_started_at"], when.as_str());
    assert_eq!(sess["replay"], true);
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    let title = &page[page.find("<title>").unwrap()..page.find("</title>").unwrap()];
    assert!(title.contains(&format!("recorded {when}")), "{title}");
    let bundle = json(&out.join("fhir-bundle.json"));
    let mut effective = 0;
    for e in bundle["entry"].as_array().unwrap() {
        let r = &e["resource"];
        for k in ["effectivePeriod", "performedPeriod"] {
            if let Some(start) = r[k]["start"].as_str() {
                effective += 1;
                assert!(start.starts_with("2019-"), "{k} {start}");
            }
        }
    }
    assert!(effective > 2, "{effective} effective times");
    let note = procedure_notes(&bundle);
    assert!(
        note.contains(&format!(
            "Replay of a recorded session: recorded {when}; replayed 20"
        )),
        "{note}"
    );

    // a file without a start time: a replay, said so, and no invented effective times
    let csv = dir.path().join("rel.csv");
    let mut rows = String::from("time,hr,rr_ms\n");
    for i in 0..300 {
        rows.push_str(&format!("{}.0,70,857\n", i));
    }
    std::fs::write(&csv, rows).unwrap();
    let dir2 = tempfile::tempdir().unwrap();
    let out = report(dir2.path(), s(&csv), "3m");
    let sess = json(&out.join("summary.json"))["session"].clone();
    assert!(sess["recording_started_at"].is_null());
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    let title = &page[page.find("<title>").unwrap()..page.find("</title>").unwrap()];
    assert!(
        title.contains("replay of a recording without a start time; rendered 20"),
        "{title}"
    );
    let bundle = json(&out.join("fhir-bundle.json"));
    for e in bundle["entry"].as_array().unwrap() {
        assert!(e["resource"]["effectivePeriod"].is_null());
    }
    let note = procedure_notes(&bundle);
    assert!(
        note.contains("replay of a recording without a start time; rendered 20"),
        "{note}"
    );

    // a file with unix time stamps (milliseconds) carries its start
    let jl = dir.path().join("unix.jsonl");
    let mut rows = String::new();
    for i in 0..300u64 {
        rows.push_str(&format!(
            "{{\"time\": {}, \"hr\": 70}}\n",
            1_650_000_000_000u64 + 1000 * i
        ));
    }
    std::fs::write(&jl, rows).unwrap();
    let dir3 = tempfile::tempdir().unwrap();
    let out = report(dir3.path(), s(&jl), "3m");
    let sess = json(&out.join("summary.json"))["session"].clone();
    // 1650000000 s is 2022-04-15T05:20:00Z
    assert_eq!(sess["recording_started_at"], "2022-04-15T05:20:00Z");
}

#[test]
fn units_explanations_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    // an E4 export without IBI.csv: the beats come from the pulse waveform only
    let e4 = dir.path().join("e4");
    std::fs::create_dir(&e4).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/e4_excerpt");
    for f in ["ACC.csv", "BVP.csv", "EDA.csv", "HR.csv", "TEMP.csv"] {
        std::fs::copy(src.join(f), e4.join(f)).unwrap();
    }
    let out = report(dir.path(), s(&e4), "3m");
    let sum = json(&out.join("summary.json"));
    assert_eq!(sum["rmssd_ms"]["baseline_source"], "feature_windows");
    assert!(
        sum["rmssd_ms"]["baseline"].is_number(),
        "{}",
        sum["rmssd_ms"]
    );
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains("the mean of the feature windows over the span"));
    // the allowance as a percentage, as the command line shows it
    let used = sum["allowance"]["used"].as_f64().unwrap();
    assert!(
        page.contains(&format!("{:.2} %", 100.0 * used)),
        "allowance {used}"
    );

    // a short spike in the device's heart rate is explained
    let jl = dir.path().join("spike.jsonl");
    let mut lines = String::new();
    for i in 0..600 {
        let hr = if (200..210).contains(&i) { 135.0 } else { 75.0 };
        lines.push_str(&format!("{{\"time\": {i}, \"hr\": {hr}}}\n"));
    }
    std::fs::write(&jl, lines).unwrap();
    let dir2 = tempfile::tempdir().unwrap();
    let out = report(dir2.path(), s(&jl), "10m");
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        page.contains("The device&#39;s own heart rate peaks at 135 /min")
            || page.contains("The device's own heart rate peaks at 135 /min"),
        "no peak note"
    );
}

#[test]
fn the_last_phase_label_stays_inside_the_plot() {
    // 40 minutes: the closing phase is a few pixels wide at the right edge
    let dir = tempfile::tempdir().unwrap();
    let out = report(dir.path(), "sim", "40m");
    let svg = std::fs::read_to_string(out.join("plot-heart.svg")).unwrap();
    let at = svg.rfind(">\nclose\n</text>").expect("a close label");
    let tag = &svg[svg[..at].rfind("<text").unwrap()..at];
    let x: f64 = {
        let v = &tag[tag.find(" x=\"").unwrap() + 4..];
        v[..v.find('"').unwrap()].parse().unwrap()
    };
    // the phase's shading: the rectangle just before the label
    let rect = &svg[svg[..at].rfind("<rect").unwrap()..];
    let num = |k: &str| -> f64 {
        let v = &rect[rect.find(&format!(" {k}=\"")).unwrap() + k.len() + 3..];
        v[..v.find('"').unwrap()].parse().unwrap()
    };
    let right = num("x") + num("width");
    // "close" at font size ~10: about 27 px wide
    assert!(
        x + 27.0 <= right + 0.5,
        "label at {x}, plot ends at {right}"
    );
}

#[test]
fn playback_events_are_summed_up_with_their_times() {
    // a live session's log: the same records with an underrun and a device loss in them
    let dir = tempfile::tempdir().unwrap();
    let out = report(dir.path(), "sim", "3m");
    let logged = std::fs::read_to_string(out.join("session.jsonl")).unwrap();
    let mut lines: Vec<Value> = logged
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let add = |rec: &mut Value, t: f64, message: &str, review: bool| {
        let d = serde_json::json!({"time": t, "kind": "playback", "message": message, "review": review});
        match rec["decisions"].as_array_mut() {
            Some(a) => a.push(d),
            None => rec["decisions"] = serde_json::json!([d]),
        }
    };
    add(
        &mut lines[42],
        41.3,
        "output underrun (1 so far): the device ran out of samples and the listener heard a gap",
        false,
    );
    add(&mut lines[90], 89.9, "output device lost: unplugged", true);
    let live = dir.path().join("live.jsonl");
    let body: Vec<String> = lines.iter().map(|v| v.to_string()).collect();
    std::fs::write(&live, body.join("\n") + "\n").unwrap();
    let rep = dir.path().join("live-report");
    let o = isochord(&["report", s(&live), "--out", s(&rep)]);
    assert!(o.status.success(), "{}", text(&o));
    let pb = json(&rep.join("summary.json"))["playback"].clone();
    assert_eq!(pb["underruns"], 1, "{pb}");
    assert_eq!(pb["device_losses"], 1, "{pb}");
    assert_eq!(pb["events"][0]["time_s"], 41.3);
    let page = std::fs::read_to_string(rep.join("report.html")).unwrap();
    assert!(
        page.contains("Live playback: 1 underrun (gaps the listener heard"),
        "no playback note"
    );
    assert!(page.contains("at 41s, 1m30s"), "times in the note");
}
