//! The FHIR export's local code system: Isochord's own URN by default, or the one given.

use isochord_report::fhir::DEFAULT_CODE_SYSTEM;
use isochord_report::{write_report, ReportOptions};
use serde_json::Value;
use std::path::Path;

fn local_codes(options: &ReportOptions) -> Vec<(String, String)> {
    let log = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/v1-minimal.jsonl");
    let tmp = tempfile::tempdir().unwrap();
    write_report(&log, tmp.path(), options).unwrap();
    let text = std::fs::read_to_string(tmp.path().join("fhir-bundle.json")).unwrap();
    assert!(!text.contains("example.invalid"));
    let bundle: Value = serde_json::from_str(&text).unwrap();
    let mut codes = Vec::new();
    for e in bundle["entry"].as_array().unwrap() {
        for c in e["resource"]["code"]["coding"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let system = c["system"].as_str().unwrap();
            if system != "http://loinc.org" {
                codes.push((system.to_string(), c["code"].as_str().unwrap().to_string()));
            }
        }
    }
    codes
}

#[test]
fn local_codes_use_the_default_system_or_the_one_given() {
    let codes = local_codes(&ReportOptions::default());
    assert_eq!(
        DEFAULT_CODE_SYSTEM,
        "urn:uuid:fcb19ff6-fa03-44b7-99d6-4ee42138e4ee"
    );
    assert!(
        codes.iter().any(|(_, c)| c == "adaptive-sound-session"),
        "{codes:?}"
    );
    assert!(codes.iter().any(|(_, c)| c == "rmssd"), "{codes:?}");
    assert!(
        codes.iter().all(|(s, _)| s == DEFAULT_CODE_SYSTEM),
        "{codes:?}"
    );

    let own = "https://terminology.example.org/CodeSystem/isochord";
    let codes = local_codes(&ReportOptions {
        fhir_code_system: Some(own.into()),
        ..ReportOptions::default()
    });
    assert!(codes.iter().any(|(_, c)| c == "rmssd"), "{codes:?}");
    assert!(codes.iter().all(|(s, _)| s == own), "{codes:?}");
}
