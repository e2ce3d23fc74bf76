//! The session log's records, shared by the engine that writes the log and the report
//! that reads it: a renamed or retyped field is a compile error on both sides, not a
//! `null` in a clinical report.
//!
//! The log is JSON Lines: a [`LogHeader`] line, one [`SecondRecord`] line per second of
//! session time, and a closing [`LogSummary`] line (missing when the process stopped
//! before the end). Each line is a JSON object whose `"record"` field says which it is
//! (`header`, `second`, `summary`), with the object's keys in sorted order
//! ([`record_line`]).
//!
//! Format version 1 ([`LOG_FORMAT_VERSION`]) is the only one so far; fields that the
//! reader does without are optional (`#[serde(default)]`), so logs written before a field
//! was added still read. Some counts are written as numbers with a fraction (`3.0`), as
//! version 1 always wrote them; their fields are `f64`.
//!
//! Written on the control thread (one record per second); read on the control/batch
//! side. Never touched by the audio thread.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

/// Version of the log's record layout.
pub const LOG_FORMAT_VERSION: u32 = 1;

/// The `"record"` value of a header line.
pub const HEADER: &str = "header";
/// The `"record"` value of a per-second line.
pub const SECOND: &str = "second";
/// The `"record"` value of the closing summary line.
pub const SUMMARY: &str = "summary";

/// The first line: the session's facts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LogHeader {
    /// Layout version of the log ([`LOG_FORMAT_VERSION`] when written by this engine).
    pub format_version: u32,
    /// Version of the engine that wrote the log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_version: Option<String>,
    /// Wall-clock UTC when the log was opened, RFC 3339 (for a replay, when it was rendered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// Preset name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// The preset's goal (`relax`, `focus`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal: Option<String>,
    /// Sound palette played.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub palette: Option<String>,
    /// Name of the biometric source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The biometrics were simulated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulated: Option<bool>,
    /// The session replayed a recording (rendered after the fact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay: Option<bool>,
    /// When the replayed recording was made, RFC 3339 UTC, when it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_started_at: Option<String>,
    /// Arousal estimator's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimator: Option<String>,
    /// Random seed of the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Planned session length, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    /// How the sound-allowance meter was set up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowance: Option<AllowanceSetup>,
    /// Fields this version does not know (kept when reading a log, written as they are).
    #[serde(flatten)]
    pub other: Map<String, Json>,
}

/// How the sound-allowance meter was set up (in the header).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AllowanceSetup {
    /// dB SPL at the ear for a 0 dBFS RMS signal.
    pub calibration_db: f64,
    /// Whether `calibration_db` was measured or assumed.
    pub calibrated: bool,
    /// Who is listening (`adult`, `child`, …).
    pub listener: String,
    /// Hard cap on the level, dB SPL, if any.
    #[serde(default)]
    pub cap_db_spl: Option<f64>,
}

/// One second of session time.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SecondRecord {
    /// End of the second, session seconds.
    pub t: f64,
    /// What arrived from the sensors in the second.
    pub raw: RawRecord,
    /// A feature window that completed in the second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowRecord>,
    /// The newest arousal estimate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelRecord>,
    /// The policy's state.
    pub policy: PolicyRecord,
    /// Decisions taken in the second (absent when none were).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decisions: Option<Vec<LogDecision>>,
    /// The sound asked for.
    pub params: ParamsRecord,
    /// The output level, when audio was metered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<OutputRecord>,
    /// The sound-allowance meter so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowance: Option<AllowanceRecord>,
}

/// What arrived from the sensors during one second. Absent values were not measured.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RawRecord {
    /// Readings and waveform chunks received.
    #[serde(default)]
    pub items: u64,
    /// Rejected or ignored items.
    #[serde(default)]
    pub issues: u64,
    /// Mean heart-rate reading, beats/min.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hr_bpm: Option<f64>,
    /// Mean RR interval, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rr_ms_mean: Option<f64>,
    /// RR intervals received (a count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rr_count: Option<f64>,
    /// Mean skin conductance, µS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eda_us: Option<f64>,
    /// Breathing rate from the source, breaths/min.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resp_rate: Option<f64>,
    /// Skin temperature, °C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp_c: Option<f64>,
    /// Accelerometer samples received (a count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acc_samples: Option<f64>,
    /// Contact-lost flags received (a count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_lost: Option<f64>,
    /// ECG samples received (a count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecg_samples: Option<f64>,
    /// Pulse (PPG) samples received (a count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ppg_samples: Option<f64>,
    /// Respiration samples received (a count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resp_samples: Option<f64>,
    /// The RR intervals received, ms, in order (absent when none were).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rr_ms: Vec<f64>,
}

/// A feature window that completed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowRecord {
    /// Start of the window, session seconds.
    #[serde(default)]
    pub start: Option<f64>,
    /// End of the window, session seconds (the second's end when absent).
    #[serde(default)]
    pub end: Option<f64>,
    /// Feature values by feature name (`mean_hr`, `rmssd`, `sdnn`, `eda_tonic`,
    /// `scr_rate`, `resp_rate`, …); features without a value are absent.
    #[serde(default)]
    pub features: BTreeMap<String, f64>,
    /// Features relative to the listener's baseline, by name, when there is a baseline.
    #[serde(default)]
    pub relative: Option<BTreeMap<String, f64>>,
    /// Window quality, 0-1.
    #[serde(default)]
    pub quality: Option<f64>,
    /// Beats in the window.
    #[serde(default)]
    pub beats: Option<u64>,
    /// Beats rejected as artefacts.
    #[serde(default)]
    pub rejected_beats: Option<u64>,
    /// Waveform samples rejected.
    #[serde(default)]
    pub rejected_samples: Option<u64>,
}

/// The newest arousal estimate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelRecord {
    /// The estimator's name.
    #[serde(default)]
    pub estimator: String,
    /// End of the window it was estimated from, session seconds.
    #[serde(default)]
    pub window_end: Option<f64>,
    /// Arousal, 0 = calm, 1 = aroused.
    #[serde(default)]
    pub arousal: Option<f64>,
    /// Confidence, 0-1.
    #[serde(default)]
    pub confidence: Option<f64>,
    /// Class probabilities by class name.
    #[serde(default)]
    pub probabilities: BTreeMap<String, f64>,
    /// Why the estimator abstained (the estimate is not usable), `None` when it did not.
    #[serde(default)]
    pub abstain: Option<String>,
}

/// The policy's state in a second.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PolicyRecord {
    /// Protocol phase.
    #[serde(default)]
    pub phase: String,
    /// Policy action.
    #[serde(default)]
    pub action: String,
    /// Why (the policy's reason).
    #[serde(default)]
    pub reason: String,
    /// Sound arousal level asked for, 0-1.
    #[serde(default)]
    pub level: Option<f64>,
    /// Smoothed arousal.
    #[serde(default)]
    pub arousal: Option<f64>,
    /// Arousal trend, per minute.
    #[serde(default)]
    pub trend_per_min: Option<f64>,
    /// The sound is grounding (an escalation).
    #[serde(default)]
    pub grounding: bool,
    /// Seconds since the sensor was lost, while lost.
    #[serde(default)]
    pub sensor_lost_s: Option<f64>,
    /// The listener's breathing rate at rest, breaths/min.
    #[serde(default)]
    pub breath_baseline: Option<f64>,
    /// Breath-guide target rate, breaths/min.
    #[serde(default)]
    pub breath_target: Option<f64>,
}

/// The sound asked for.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ParamsRecord {
    /// Tempo, BPM.
    #[serde(default)]
    pub tempo: Option<f64>,
    /// Brightness, 0-1.
    #[serde(default)]
    pub brightness: Option<f64>,
    /// Density, 0-1.
    #[serde(default)]
    pub density: Option<f64>,
    /// Energy, 0-1.
    #[serde(default)]
    pub energy: Option<f64>,
    /// Reverb, 0-1.
    #[serde(default)]
    pub reverb: Option<f64>,
    /// Breath-guide rate played, breaths/min.
    #[serde(default)]
    pub breath_rate: Option<f64>,
}

/// The output level over a second.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OutputRecord {
    /// RMS, dBFS (`None` for silence).
    #[serde(default)]
    pub rms_dbfs: Option<f64>,
    /// Peak, dBFS (`None` for silence or when not metered).
    #[serde(default)]
    pub peak_dbfs: Option<f64>,
    /// Level, dB SPL (estimated unless calibrated).
    #[serde(default)]
    pub spl_db: Option<f64>,
}

/// The sound-allowance meter.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AllowanceRecord {
    /// Share of the weekly allowance used so far.
    #[serde(default)]
    pub used: Option<f64>,
    /// Dose so far, Pa²h.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dose_pa2h: Option<f64>,
    /// Equivalent continuous level so far, dB SPL.
    #[serde(default)]
    pub leq_db: Option<f64>,
    /// dB SPL at the ear for a 0 dBFS RMS signal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration_db: Option<f64>,
    /// Whether the level was calibrated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibrated: Option<bool>,
    /// Who is listening.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener: Option<String>,
}

/// A decision or event the engine took or saw.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LogDecision {
    /// Session seconds.
    pub time: f64,
    /// Kind (phase, decision, breath, estimate, sensor, escalation, safety,
    /// personalisation, content, playback).
    pub kind: String,
    /// What happened and why.
    #[serde(default)]
    pub message: String,
    /// A human should review it.
    #[serde(default)]
    pub review: bool,
}

/// The closing line.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LogSummary {
    /// Session time at the end, seconds.
    pub t: f64,
    /// The engine's mean usable arousal over the first two minutes of estimates.
    #[serde(default)]
    pub arousal_start: Option<f64>,
    /// The engine's mean usable arousal over the last two minutes of estimates.
    #[serde(default)]
    pub arousal_end: Option<f64>,
    /// Usable estimates.
    #[serde(default)]
    pub usable_estimates: u64,
    /// All estimates.
    #[serde(default)]
    pub estimates: u64,
    /// Escalations.
    #[serde(default)]
    pub escalations: u64,
    /// Events logged.
    #[serde(default)]
    pub events: u64,
    /// The listener's breathing rate at rest, breaths/min.
    #[serde(default)]
    pub breath_baseline: Option<f64>,
    /// The sound-allowance meter at the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowance: Option<AllowanceRecord>,
    /// Decisions not logged with a second (those of the last part-second).
    #[serde(default)]
    pub decisions: Vec<LogDecision>,
}

/// `record` as one log line's JSON object: its fields, in sorted order, with
/// `"record": kind`. Serialising goes through a [`Json`] value so every object's keys
/// come out sorted, as version 1 logs always had them.
pub fn record_line<T: Serialize>(kind: &str, record: &T) -> Json {
    let mut v = serde_json::to_value(record).expect("log records serialise to JSON");
    if let Json::Object(m) = &mut v {
        m.insert("record".into(), Json::String(kind.into()));
    }
    v
}
