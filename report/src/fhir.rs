//! `fhir-bundle.json`: the session as a FHIR R4 Bundle (type `collection`):
//! - a Procedure for the session (`completed`, or `stopped` for a partial session);
//! - Observations for each measure: a baseline and a closing value (`valueQuantity`,
//!   effective over the baseline / closing span) and the per-second series
//!   (`valueSampledData`, period 1000 ms, `E` where nothing was measured), each pointing
//!   at the Procedure (`partOf`);
//! - a Device describing the engine (its version and the arousal estimator's), and a
//!   Provenance naming it as the author of everything above.
//!
//! Codes: heart rate LOINC 8867-4 (`/min`), respiratory rate LOINC 9279-1 (`/min`), SDNN
//! LOINC 80404-7 (`ms`). RMSSD (`ms`), skin conductance (`uS`) and arousal (`1`) have no
//! LOINC code and use the local code system (`rmssd`, `eda-level`, `arousal`; the
//! session procedure is `adaptive-sound-session` in it): [`DEFAULT_CODE_SYSTEM`]
//! (`urn:uuid:fcb19ff6-fa03-44b7-99d6-4ee42138e4ee`) unless
//! [`ReportOptions::fhir_code_system`] names another. Units are UCUM (`http://unitsofmeasure.org`).
//!
//! Patient and encounter references come from the caller (`--patient`, `--encounter`) and
//! are never invented. Without a patient, the Procedure's required `subject` carries only
//! the `data-absent-reason` extension (`unknown`) and the Observations have no subject.
//!
//! Runs on the control/batch side.

use super::read::SessionData;
use super::summary::{spans, Change, Summary};
use super::timeline::Row;
use super::ReportOptions;
use crate::utc::format_utc;
use serde_json::{json, Map, Value as Json};

/// The default local code system for measures without a LOINC code and for the session
/// procedure: a URN made from a random UUID, unique to Isochord, so codes from it never
/// clash with another system's. A deployment that publishes its own CodeSystem resource
/// names it instead ([`ReportOptions::fhir_code_system`], `--fhir-code-system`).
pub const DEFAULT_CODE_SYSTEM: &str = "urn:uuid:fcb19ff6-fa03-44b7-99d6-4ee42138e4ee";

/// Marks a [`Measure`] as coded in the local code system: written as the configured one
/// ([`ReportOptions::fhir_code_system`], else [`DEFAULT_CODE_SYSTEM`]).
pub const LOCAL_SYSTEM: &str = DEFAULT_CODE_SYSTEM;
/// LOINC.
pub const LOINC: &str = "http://loinc.org";
/// UCUM.
pub const UCUM: &str = "http://unitsofmeasure.org";
const DATA_ABSENT: &str = "http://hl7.org/fhir/StructureDefinition/data-absent-reason";

/// One exported measure.
pub struct Measure {
    /// Code system.
    pub system: &'static str,
    /// Code.
    pub code: &'static str,
    /// Display.
    pub display: &'static str,
    /// UCUM unit code.
    pub unit: &'static str,
    /// Its baseline and closing figures in the summary.
    pub figures: fn(&Summary) -> &Change,
    /// The per-second value.
    pub value: fn(&Row) -> Option<f64>,
    /// Vital-signs category (else none).
    pub vital: bool,
}

/// The exported measures.
pub const MEASURES: &[Measure] = &[
    Measure {
        system: LOINC,
        code: "8867-4",
        display: "Heart rate",
        unit: "/min",
        figures: |s| &s.heart_rate_bpm,
        value: |r| r.hr_bpm,
        vital: true,
    },
    Measure {
        system: LOINC,
        code: "9279-1",
        display: "Respiratory rate",
        unit: "/min",
        figures: |s| &s.breathing_rate_per_min.figures,
        value: |r| r.resp_rate,
        vital: true,
    },
    Measure {
        system: LOINC,
        code: "80404-7",
        display: "R-R interval.standard deviation (Heart rate variability)",
        unit: "ms",
        figures: |s| &s.sdnn_ms.figures,
        value: |r| r.window.as_ref().and_then(|w| w.sdnn),
        vital: false,
    },
    Measure {
        system: LOCAL_SYSTEM,
        code: "rmssd",
        display: "RMSSD (root mean square of successive RR differences)",
        unit: "ms",
        figures: |s| &s.rmssd_ms.figures,
        value: |r| r.window.as_ref().and_then(|w| w.rmssd),
        vital: false,
    },
    Measure {
        system: LOCAL_SYSTEM,
        code: "eda-level",
        display: "Skin conductance level (EDA)",
        unit: "uS",
        figures: |s| &s.eda_us,
        value: |r| r.eda_us,
        vital: false,
    },
    Measure {
        system: LOCAL_SYSTEM,
        code: "arousal",
        display: "Estimated arousal (0 calm to 1 aroused; not a clinical measure)",
        unit: "1",
        figures: |s| &s.arousal.figures,
        value: |r| r.usable_arousal(),
        vital: false,
    },
];

fn fnv(seed: u64, s: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A deterministic `urn:uuid:` (version-4 layout) from the session's identity and `what`.
fn urn(identity: &str, what: &str) -> String {
    let key = format!("{identity}|{what}");
    let (a, b) = (fnv(1, &key), fnv(2, &key));
    let b = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    let a = (a & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000;
    format!(
        "urn:uuid:{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

/// Parses an RFC 3339 UTC timestamp `YYYY-MM-DDThh:mm:ssZ` to Unix seconds.
fn parse_utc(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hh, mm, ss) = (n(11..13)?, n(14..16)?, n(17..19)?);
    // days from civil (H. Hinnant)
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

fn quantity(v: f64, m: &Measure) -> Json {
    json!({"value": (v * 1000.0).round() / 1000.0, "unit": m.unit, "system": UCUM, "code": m.unit})
}

fn sampled(rows: &[Row], m: &Measure) -> Option<Json> {
    let vals: Vec<Option<f64>> = rows.iter().map(|r| (m.value)(r)).collect();
    if vals.iter().all(Option::is_none) {
        return None;
    }
    let data: Vec<String> = vals
        .iter()
        .map(|v| {
            v.map_or("E".to_string(), |x| {
                format!("{}", (x * 1000.0).round() / 1000.0)
            })
        })
        .collect();
    Some(json!({
        "origin": {"value": 0, "unit": m.unit, "system": UCUM, "code": m.unit},
        "period": 1000,
        "dimensions": 1,
        "data": data.join(" "),
    }))
}

/// The Bundle.
pub fn bundle(d: &SessionData, summary: &Summary, o: &ReportOptions) -> Json {
    let local = o.code_system();
    let identity = format!(
        "{}|{}|{}|{}",
        d.header.started_at.clone().unwrap_or_default(),
        d.header.source.clone().unwrap_or_default(),
        d.header.preset.clone().unwrap_or_default(),
        d.header.seed.map(|s| s.to_string()).unwrap_or_default()
    );
    // effective times are the physiological ones: the recording's own start for a
    // replay, none when a replayed recording has no start time
    let start = d.recording_start().and_then(|s| parse_utc(&s));
    let end_s = d.end_s();
    let at = |t: f64| start.map(|s| format_utc(s + t.round() as i64));
    let period = |a: f64, b: f64| match (at(a), at(b)) {
        (Some(s), Some(e)) => Some(json!({"start": s, "end": e})),
        _ => None,
    };
    let partial = d.partial_reason();
    let proc_url = urn(&identity, "procedure");
    let device_url = urn(&identity, "device");
    let subject = o.patient.as_ref().map(|p| json!({"reference": p}));
    let encounter = o.encounter.as_ref().map(|e| json!({"reference": e}));

    let mut procedure = Map::new();
    procedure.insert("resourceType".into(), json!("Procedure"));
    procedure.insert(
        "status".into(),
        json!(if partial.is_some() {
            "stopped"
        } else {
            "completed"
        }),
    );
    procedure.insert("code".into(), json!({"coding": [{"system": local, "code": "adaptive-sound-session", "display": "Adaptive sound session (biometric-steered)"}], "text": format!("Isochord adaptive sound session, preset {}", d.header.preset.clone().unwrap_or_default())}));
    procedure.insert(
        "subject".into(),
        subject.clone().unwrap_or_else(
            || json!({"extension": [{"url": DATA_ABSENT, "valueCode": "unknown"}]}),
        ),
    );
    if let Some(e) = &encounter {
        procedure.insert("encounter".into(), e.clone());
    }
    if let Some(p) = period(0.0, end_s) {
        procedure.insert("performedPeriod".into(), p);
    }
    let mut notes = vec![
        json!({"text": "Not a diagnostic device: figures are for review, not clinical measurements."}),
    ];
    if let Some(r) = &partial {
        notes.push(json!({"text": format!("Partial session: {r}")}));
    }
    if d.is_replay() {
        // the effective times are the recording's; say when the sound was rendered
        notes
            .push(json!({"text": format!("Replay of a recorded session: {}.", d.when_recorded())}));
    }
    procedure.insert("note".into(), json!(notes));

    let mut entries = vec![json!({"fullUrl": proc_url, "resource": Json::Object(procedure)})];
    let mut targets = vec![json!({"reference": proc_url})];
    let (b_end, c_start) = spans(end_s);
    let status = if partial.is_some() {
        "preliminary"
    } else {
        "final"
    };
    for m in MEASURES {
        let base = |what: &str, value_key: &str, value: Json, eff: Option<Json>| {
            let mut ob = Map::new();
            ob.insert("resourceType".into(), json!("Observation"));
            ob.insert("status".into(), json!(status));
            if m.vital {
                ob.insert("category".into(), json!([{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs", "display": "Vital Signs"}]}]));
            }
            ob.insert("code".into(), json!({"coding": [{"system": if m.system == LOCAL_SYSTEM { local } else { m.system }, "code": m.code, "display": m.display}], "text": format!("{} ({what})", m.display)}));
            if let Some(s) = &subject {
                ob.insert("subject".into(), s.clone());
            }
            if let Some(e) = &encounter {
                ob.insert("encounter".into(), e.clone());
            }
            ob.insert("partOf".into(), json!([{"reference": proc_url}]));
            if let Some(e) = eff {
                ob.insert("effectivePeriod".into(), e);
            }
            ob.insert("device".into(), json!({"reference": device_url}));
            ob.insert(value_key.into(), value);
            Json::Object(ob)
        };
        let mut add = |what: &str, ob: Json| {
            let url = urn(&identity, &format!("{}|{what}", m.code));
            targets.push(json!({"reference": url}));
            entries.push(json!({"fullUrl": url, "resource": ob}));
        };
        let figures = (m.figures)(summary);
        for (what, value, from, to) in [
            ("baseline", figures.baseline, 0.0, b_end),
            ("closing", figures.closing, c_start, end_s),
        ] {
            if let Some(v) = value {
                add(
                    what,
                    base(what, "valueQuantity", quantity(v, m), period(from, to)),
                );
            }
        }
        if let Some(sd) = sampled(&d.rows, m) {
            let first = d.rows.first().map_or(0.0, |r| r.t - 1.0);
            add(
                "per-second series",
                base(
                    "per-second series",
                    "valueSampledData",
                    sd,
                    period(first, end_s),
                ),
            );
        }
    }

    let engine = d
        .header
        .engine_version
        .clone()
        .unwrap_or_else(|| "unknown".into());
    let estimator = d
        .header
        .estimator
        .clone()
        .unwrap_or_else(|| "unknown".into());
    entries.push(json!({"fullUrl": device_url, "resource": {
        "resourceType": "Device",
        "deviceName": [{"name": "Isochord adaptive sound engine", "type": "manufacturer-name"}],
        "version": [
            {"type": {"text": "engine"}, "value": engine},
            {"type": {"text": "arousal estimator (model)"}, "value": estimator},
            {"type": {"text": "session log format"}, "value": d.header.format_version.to_string()},
        ],
        "note": [{"text": "Not a medical or diagnostic device."}],
    }}));
    // when this record was made: the end of the session as it ran (a replay runs at
    // render time)
    let recorded = d
        .header
        .started_at
        .clone()
        .and_then(|s| parse_utc(&s))
        .map(|s| format_utc(s + end_s.round() as i64))
        .unwrap_or_else(crate::utc::utc_now);
    entries.push(json!({"fullUrl": urn(&identity, "provenance"), "resource": {
        "resourceType": "Provenance",
        "target": targets,
        "recorded": recorded,
        "agent": [{
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": "author", "display": "Author"}]},
            "who": {"reference": device_url, "display": format!("Isochord engine {engine}, arousal estimator {estimator}")},
        }],
        "entity": [{"role": "source", "what": {"display": format!("session log {} (format version {})", d.path.file_name().map_or(String::new(), |f| f.to_string_lossy().into_owned()), d.header.format_version.to_string())}}],
    }}));
    json!({
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": recorded,
        "entry": entries,
    })
}
