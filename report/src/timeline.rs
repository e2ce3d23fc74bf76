//! The per-second timeline of a session, read from its log, and its CSV form
//! (`timeline.csv`, one row per logged second, empty cells where nothing was measured).
//!
//! Columns: `t_s` (end of the second, session time), `items` and `issues` (sensor items
//! received and rejected), `hr_bpm` (mean heart-rate reading), `rr_count`, `rr_ms` (the RR
//! intervals received, `;`-separated), `eda_us`, `resp_rate` (breaths/min from the
//! source), the newest feature window when one completed in that second (`window_end_s`,
//! `win_mean_hr`, `win_rmssd_ms`, `win_sdnn_ms`, `win_eda_tonic_us`, `win_scr_rate`,
//! `win_resp_rate`, `win_quality`, `win_beats`, `win_rejected_beats`), the newest arousal
//! estimate (`arousal`, `confidence`, `abstain` 1/0), the policy (`policy_arousal`
//! smoothed, `phase`, `action`, `level`, `sensor_lost_s`, `breath_target`), the sound
//! asked for (`tempo`, `brightness`, `density`, `energy`, `reverb`, `breath_guide`), the
//! output level (`rms_dbfs`, `spl_db`), the allowance (`allowance_used`, `leq_db`) and the
//! number of decisions taken in the second.
//!
//! Runs on the control/batch side.

use crate::log_schema::{LogDecision, SecondRecord};
use serde_json::{Map, Value as Json};
use std::fmt::Write;

/// One logged second.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Row {
    /// End of the second, session seconds.
    pub t: f64,
    /// Sensor items received.
    pub items: u64,
    /// Items rejected or ignored.
    pub issues: u64,
    /// Mean heart-rate reading, beats/min.
    pub hr_bpm: Option<f64>,
    /// RR intervals received, ms.
    pub rr_ms: Vec<f64>,
    /// RR intervals counted (equals `rr_ms.len()` in logs that carry the intervals).
    pub rr_count: u64,
    /// Mean skin conductance, µS.
    pub eda_us: Option<f64>,
    /// Breathing rate from the source, breaths/min.
    pub resp_rate: Option<f64>,
    /// A feature window completed in this second.
    pub window: Option<WindowRow>,
    /// Newest arousal estimate, 0-1.
    pub arousal: Option<f64>,
    /// Its confidence, 0-1.
    pub confidence: Option<f64>,
    /// The estimator abstained (the estimate is not usable).
    pub abstain: bool,
    /// The policy's smoothed arousal.
    pub policy_arousal: Option<f64>,
    /// Protocol phase.
    pub phase: String,
    /// Policy action.
    pub action: String,
    /// Why (the policy's reason).
    pub reason: String,
    /// Sound arousal level asked for, 0-1.
    pub level: Option<f64>,
    /// Seconds since the sensor was lost, while lost.
    pub sensor_lost_s: Option<f64>,
    /// Breath-guide target rate, breaths/min.
    pub breath_target: Option<f64>,
    /// Tempo, BPM.
    pub tempo: Option<f64>,
    /// Brightness, 0-1.
    pub brightness: Option<f64>,
    /// Density, 0-1.
    pub density: Option<f64>,
    /// Energy, 0-1.
    pub energy: Option<f64>,
    /// Reverb, 0-1.
    pub reverb: Option<f64>,
    /// Breath-guide rate played, breaths/min.
    pub breath_guide: Option<f64>,
    /// Output RMS, dBFS.
    pub rms_dbfs: Option<f64>,
    /// Output level, dB SPL (estimated unless calibrated).
    pub spl_db: Option<f64>,
    /// Share of the weekly sound allowance used so far.
    pub allowance_used: Option<f64>,
    /// Equivalent continuous level so far, dB SPL.
    pub leq_db: Option<f64>,
    /// Decisions taken in this second.
    pub decisions: usize,
}

/// The feature window that completed in a second.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WindowRow {
    /// Start of the window, session seconds (when logged).
    pub start: Option<f64>,
    /// End of the window, session seconds.
    pub end: f64,
    /// Mean heart rate, beats/min.
    pub mean_hr: Option<f64>,
    /// RMSSD, ms.
    pub rmssd: Option<f64>,
    /// SDNN, ms.
    pub sdnn: Option<f64>,
    /// Tonic skin conductance, µS.
    pub eda_tonic: Option<f64>,
    /// Skin-conductance responses per minute.
    pub scr_rate: Option<f64>,
    /// Breathing rate, breaths/min.
    pub resp_rate: Option<f64>,
    /// Window quality, 0-1.
    pub quality: Option<f64>,
    /// Beats in the window.
    pub beats: Option<f64>,
    /// Beats rejected as artefacts.
    pub rejected_beats: Option<f64>,
}

/// A decision from the log.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// Session seconds.
    pub time: f64,
    /// Kind (phase, decision, breath, estimate, sensor, escalation, safety, personalisation).
    pub kind: String,
    /// What happened and why.
    pub message: String,
    /// A human should review it.
    pub review: bool,
}

impl From<&LogDecision> for Decision {
    fn from(d: &LogDecision) -> Self {
        Decision {
            time: d.time,
            kind: d.kind.clone(),
            message: d.message.clone(),
            review: d.review,
        }
    }
}

fn obj<'a>(rec: &'a Map<String, Json>, key: &str) -> Result<Option<&'a Json>, String> {
    match rec.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(v @ Json::Object(_)) => Ok(Some(v)),
        Some(_) => Err(format!("\"{key}\" must be an object")),
    }
}

/// Why a log record could not be read: what is missing or wrong in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordError(pub String);

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RecordError {}

impl From<&str> for RecordError {
    fn from(m: &str) -> Self {
        RecordError(m.to_string())
    }
}

impl From<String> for RecordError {
    fn from(m: String) -> Self {
        RecordError(m)
    }
}

/// Reads a `second` record into its typed form (errors say what is missing or wrong).
pub fn parse_second(rec: &Map<String, Json>) -> Result<SecondRecord, RecordError> {
    rec.get("t")
        .and_then(Json::as_f64)
        .ok_or("second record without a numeric \"t\"")?;
    obj(rec, "raw")?.ok_or("second record without \"raw\"")?;
    obj(rec, "policy")?.ok_or("second record without \"policy\"")?;
    obj(rec, "params")?.ok_or("second record without \"params\"")?;
    for key in ["model", "window", "output", "allowance"] {
        obj(rec, key)?;
    }
    serde_json::from_value(Json::Object(rec.clone())).map_err(|e| RecordError(e.to_string()))
}

impl Row {
    /// Reads a `second` record.
    pub fn from_record(rec: &Map<String, Json>) -> Result<Row, RecordError> {
        Ok(Row::from_second(&parse_second(rec)?))
    }

    /// The row of a `second` record.
    pub fn from_second(rec: &SecondRecord) -> Row {
        let t = rec.t;
        let raw = &rec.raw;
        let policy = &rec.policy;
        let params = &rec.params;
        let model = rec.model.as_ref();
        let window = rec.window.as_ref().map(|w| {
            let f = |name: &str| w.features.get(name).copied();
            WindowRow {
                start: w.start,
                end: w.end.unwrap_or(t),
                mean_hr: f("mean_hr"),
                rmssd: f("rmssd"),
                sdnn: f("sdnn"),
                eda_tonic: f("eda_tonic"),
                scr_rate: f("scr_rate"),
                resp_rate: f("resp_rate"),
                quality: w.quality,
                beats: w.beats.map(|b| b as f64),
                rejected_beats: w.rejected_beats.map(|b| b as f64),
            }
        });
        Row {
            t,
            items: raw.items,
            issues: raw.issues,
            hr_bpm: raw.hr_bpm,
            rr_count: raw.rr_count.map_or(raw.rr_ms.len() as u64, |c| c as u64),
            rr_ms: raw.rr_ms.clone(),
            eda_us: raw.eda_us,
            resp_rate: raw.resp_rate,
            window,
            arousal: model.and_then(|m| m.arousal),
            confidence: model.and_then(|m| m.confidence),
            abstain: model.is_some_and(|m| m.abstain.is_some()),
            policy_arousal: policy.arousal,
            phase: policy.phase.clone(),
            action: policy.action.clone(),
            reason: policy.reason.clone(),
            level: policy.level,
            sensor_lost_s: policy.sensor_lost_s,
            breath_target: policy.breath_target,
            tempo: params.tempo,
            brightness: params.brightness,
            density: params.density,
            energy: params.energy,
            reverb: params.reverb,
            breath_guide: params.breath_rate,
            rms_dbfs: rec.output.as_ref().and_then(|o| o.rms_dbfs),
            spl_db: rec.output.as_ref().and_then(|o| o.spl_db),
            allowance_used: rec.allowance.as_ref().and_then(|a| a.used),
            leq_db: rec.allowance.as_ref().and_then(|a| a.leq_db),
            decisions: rec.decisions.as_ref().map_or(0, Vec::len),
        }
    }

    /// The newest estimate, when it is usable (present and not abstaining).
    pub fn usable_arousal(&self) -> Option<f64> {
        self.arousal.filter(|_| !self.abstain)
    }
}

/// The CSV header line's columns.
pub const COLUMNS: &[&str] = &[
    "t_s",
    "items",
    "issues",
    "hr_bpm",
    "rr_count",
    "rr_ms",
    "eda_us",
    "resp_rate",
    "window_end_s",
    "win_mean_hr",
    "win_rmssd_ms",
    "win_sdnn_ms",
    "win_eda_tonic_us",
    "win_scr_rate",
    "win_resp_rate",
    "win_quality",
    "win_beats",
    "win_rejected_beats",
    "arousal",
    "confidence",
    "abstain",
    "policy_arousal",
    "phase",
    "action",
    "level",
    "sensor_lost_s",
    "breath_target",
    "tempo",
    "brightness",
    "density",
    "energy",
    "reverb",
    "breath_guide",
    "rms_dbfs",
    "spl_db",
    "allowance_used",
    "leq_db",
    "decisions",
];

/// The timeline as CSV (header line, then one line per second; no cell holds a comma).
pub fn to_csv(rows: &[Row]) -> String {
    let mut s = COLUMNS.join(",");
    s.push('\n');
    let o = |v: Option<f64>| v.map_or(String::new(), |x| x.to_string());
    for r in rows {
        let w = r.window.as_ref();
        let rr: Vec<String> = r.rr_ms.iter().map(|x| x.to_string()).collect();
        let safe = |x: &str| x.replace([',', '\n', '"'], " ");
        let cells = [
            r.t.to_string(),
            r.items.to_string(),
            r.issues.to_string(),
            o(r.hr_bpm),
            r.rr_count.to_string(),
            rr.join(";"),
            o(r.eda_us),
            o(r.resp_rate),
            o(w.map(|w| w.end)),
            o(w.and_then(|w| w.mean_hr)),
            o(w.and_then(|w| w.rmssd)),
            o(w.and_then(|w| w.sdnn)),
            o(w.and_then(|w| w.eda_tonic)),
            o(w.and_then(|w| w.scr_rate)),
            o(w.and_then(|w| w.resp_rate)),
            o(w.and_then(|w| w.quality)),
            o(w.and_then(|w| w.beats)),
            o(w.and_then(|w| w.rejected_beats)),
            o(r.arousal),
            o(r.confidence),
            if r.arousal.is_some() {
                u8::from(r.abstain).to_string()
            } else {
                String::new()
            },
            o(r.policy_arousal),
            safe(&r.phase),
            safe(&r.action),
            o(r.level),
            o(r.sensor_lost_s),
            o(r.breath_target),
            o(r.tempo),
            o(r.brightness),
            o(r.density),
            o(r.energy),
            o(r.reverb),
            o(r.breath_guide),
            o(r.rms_dbfs),
            o(r.spl_db),
            o(r.allowance_used),
            o(r.leq_db),
            r.decisions.to_string(),
        ];
        let _ = writeln!(s, "{}", cells.join(","));
    }
    s
}
