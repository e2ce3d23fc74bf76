//! The session log's schema: a format-version-1 log written before later fields were
//! added still reads, and the records the engine writes read back as they were written.

use isochord_report::log_schema::{
    record_line, AllowanceRecord, LogDecision, LogHeader, LogSummary, ParamsRecord, PolicyRecord,
    RawRecord, SecondRecord, WindowRecord, SECOND,
};
use isochord_report::timeline::parse_second;
use isochord_report::{read_log, write_report, ReportOptions};
use serde_json::Value;
use std::path::Path;

fn fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/v1-minimal.jsonl")
}

#[test]
fn a_minimal_version_1_log_reads() {
    let d = read_log(&fixture()).unwrap();
    assert_eq!(d.header.format_version, 1);
    assert_eq!(d.header.preset.as_deref(), Some("relax"));
    assert_eq!(d.header.seed, Some(7));
    assert_eq!(d.header.duration_s, Some(3.0));
    assert_eq!(d.header.engine_version, None);
    assert_eq!(d.header.replay, None);
    assert!(!d.is_replay());
    assert_eq!(d.fact("seed").as_deref(), Some("7"));
    assert_eq!(d.fact("source").as_deref(), Some("simulator"));
    assert_eq!(d.rows.len(), 3);

    let r = &d.rows[0];
    assert_eq!(r.t, 1.0);
    assert_eq!(r.items, 4);
    assert_eq!(r.hr_bpm, Some(72.5));
    // older logs counted RR intervals without carrying them
    assert_eq!(r.rr_count, 2);
    assert!(r.rr_ms.is_empty());
    assert_eq!(r.policy_arousal, None);
    assert_eq!(r.tempo, Some(60.0));
    assert_eq!(r.allowance_used, None);

    let r = &d.rows[1];
    let w = r.window.as_ref().unwrap();
    assert_eq!(w.start, None);
    assert_eq!(w.end, 2.0);
    assert_eq!(w.rmssd, Some(41.5));
    assert_eq!(w.sdnn, None);
    assert_eq!(w.beats, Some(3.0));
    assert_eq!(r.arousal, Some(0.4));
    assert!(!r.abstain);
    assert_eq!(r.usable_arousal(), Some(0.4));
    assert_eq!(r.issues, 1);
    assert_eq!(r.eda_us, Some(2.25));
    assert_eq!(r.decisions, 1);

    let r = &d.rows[2];
    assert_eq!(r.rr_ms, vec![810.0, 820.0]);
    assert_eq!(r.rr_count, 2);
    assert_eq!(r.allowance_used, Some(0.0001));
    assert_eq!(r.leq_db, Some(70.0));

    let s = d.summary.as_ref().unwrap();
    assert_eq!(s.t, 3.0);
    assert_eq!(s.arousal_start, Some(0.4));
    assert_eq!(s.usable_estimates, 0);
    assert!(s.allowance.is_none());
    assert_eq!(d.partial_reason(), None);
    assert_eq!(d.decisions.len(), 2);
    assert_eq!(d.decisions[0].kind, "phase");
    assert!(!d.decisions[0].review);
    assert_eq!(d.decisions[1].kind, "escalation");
    assert!(d.decisions[1].review);
}

#[test]
fn a_minimal_version_1_log_is_reported_on() {
    let tmp = tempfile::tempdir().unwrap();
    let out = write_report(&fixture(), tmp.path(), &ReportOptions::default()).unwrap();
    let text = std::fs::read_to_string(tmp.path().join("summary.json")).unwrap();
    let s: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(s["session"]["log_format_version"], 1);
    assert_eq!(s["session"]["preset"], "relax");
    assert_eq!(s["session"]["engine_version"], Value::Null);
    assert_eq!(s["session"]["planned_duration_s"], 3.0);
    assert_eq!(s["session"]["partial"], false);
    // without the summary's meter, the last second's
    assert_eq!(s["allowance"]["used"], 0.0001);
    assert_eq!(s["allowance"]["leq_db"], 70.0);
    assert_eq!(s["arousal"]["engine_start"], 0.4);
    assert_eq!(s["escalations"]["count"], 1);
    assert_eq!(s["review_flags"], 1);
    assert!(out.files.iter().any(|f| f.ends_with("fhir-bundle.json")));
    let timeline = std::fs::read_to_string(tmp.path().join("timeline.csv")).unwrap();
    assert_eq!(timeline.lines().count(), 4);
}

#[test]
fn records_read_back_as_written() {
    let second = SecondRecord {
        t: 12.0,
        raw: RawRecord {
            items: 9,
            hr_bpm: Some(61.25),
            rr_count: Some(1.0),
            rr_ms: vec![980.0],
            ..RawRecord::default()
        },
        window: Some(WindowRecord {
            start: Some(-48.0),
            end: Some(12.0),
            features: [("rmssd".to_string(), 35.5)].into_iter().collect(),
            relative: None,
            quality: Some(1.0),
            beats: Some(60),
            rejected_beats: Some(1),
            rejected_samples: Some(0),
        }),
        model: None,
        policy: PolicyRecord {
            phase: "settle".into(),
            action: "hold".into(),
            level: Some(0.5),
            ..PolicyRecord::default()
        },
        decisions: Some(vec![LogDecision {
            time: 11.5,
            kind: "breath".into(),
            message: "slower".into(),
            review: false,
        }]),
        params: ParamsRecord {
            tempo: Some(60.0),
            ..ParamsRecord::default()
        },
        output: None,
        allowance: Some(AllowanceRecord {
            used: Some(0.5),
            ..AllowanceRecord::default()
        }),
    };
    let line = record_line(SECOND, &second);
    let text = serde_json::to_string(&line).unwrap();
    // keys sorted, `record` among them; counts written as they always were
    assert!(text.starts_with("{\"allowance\":"), "{text}");
    assert!(text.contains("\"record\":\"second\""), "{text}");
    assert!(text.contains("\"rr_count\":1.0"), "{text}");
    assert!(text.contains("\"beats\":60,"), "{text}");
    assert!(!text.contains("\"model\""), "{text}");
    let Value::Object(map) = serde_json::from_str(&text).unwrap() else {
        panic!("not an object")
    };
    assert_eq!(parse_second(&map).unwrap(), second);

    let header = LogHeader {
        format_version: 1,
        preset: Some("relax".into()),
        seed: Some(3),
        ..LogHeader::default()
    };
    let text = serde_json::to_string(&record_line("header", &header)).unwrap();
    assert_eq!(
        text,
        "{\"format_version\":1,\"preset\":\"relax\",\"record\":\"header\",\"seed\":3}"
    );
    let summary = LogSummary {
        t: 30.0,
        ..LogSummary::default()
    };
    let v = record_line("summary", &summary);
    assert_eq!(v["decisions"], serde_json::json!([]));
    assert_eq!(v["arousal_start"], Value::Null);
}

#[test]
fn a_mistyped_field_is_an_error_naming_it() {
    let text = std::fs::read_to_string(fixture()).unwrap();
    let bad = text.replacen("\"hr_bpm\":72.5", "\"hr_bpm\":\"fast\"", 1);
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("bad.jsonl");
    std::fs::write(&p, bad).unwrap();
    let e = read_log(&p).unwrap_err().to_string();
    assert!(e.contains("bad.jsonl:2:"), "{e}");
    assert!(e.contains("invalid type"), "{e}");
}
