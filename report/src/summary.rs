//! The figures of `summary.json`, each computed from the per-second timeline so it can be
//! checked against `timeline.csv`.
//!
//! Definitions (session time in seconds; "end" = the last logged second):
//! - **Times** (`session`): `started_at` is when the session ran (for a replay, when it
//!   was rendered); `recording_started_at` when the physiological data were recorded
//!   (the recording's own start for a replay, `null` when the recording has none);
//!   `replay` says which kind of session it was.
//! - **Baseline / closing span**: the first and the last `min(300 s, end / 3)` of the
//!   session: baseline = seconds with `t <= span`, closing = seconds with `t > end - span`.
//! - **Heart rate** (`heart_rate_bpm`): mean of the seconds' mean heart-rate readings
//!   (`hr_bpm`) over the span.
//! - **RMSSD and SDNN** (`rmssd_ms`, `sdnn_ms`): computed with
//!   [`isochord_biometrics::hrv::time_domain`] on the RR intervals received during the span
//!   (`rr_ms`, concatenated in order; every interval counted as successive); with
//!   fewer than [`MIN_BEATS`] intervals, the mean of the feature windows' values over the
//!   span (beats from the pulse or ECG waveform), `null` when there are none either.
//!   `beats` gives the count of logged intervals, `baseline_source` / `closing_source`
//!   where the figure came from ([`hrv_or_windows`]).
//! - **Breathing rate** (`breathing_rate_per_min`): mean of the source's breathing rate
//!   (`resp_rate`) over the seconds of the span that have one; when the source gives none
//!   in the whole session, the mean of the feature windows' breathing rate
//!   (`win_resp_rate`) over the windows completing in the span (`source` says which).
//! - **Skin conductance** (`eda_us`): mean of the seconds' mean EDA over the span.
//! - **Arousal** (`arousal`): mean over the span's seconds of the newest usable estimate
//!   (present and not abstaining), 0 = calm, 1 = aroused. `engine_start` / `engine_end`
//!   are the engine's own figures from the log's summary (means of usable estimates over
//!   the first and last two minutes of estimates).
//! - **Time to calm** (`time_to_calm_s`): the first second from which the policy's
//!   smoothed arousal stays below [`CALM_AROUSAL`] for [`CALM_HOLD_S`] seconds in a row;
//!   `null` if that never happens.
//! - **Time in each state**: seconds per protocol phase, per policy action, and per
//!   arousal band of the newest usable estimate (`low` < 1/3 ≤ `moderate` < 2/3 ≤ `high`,
//!   `no_estimate` when there is none or it abstained).
//! - **Signal quality and data loss** (`signal_quality`): seconds in which no sensor item
//!   arrived (`seconds_without_data`, and its share of all seconds), seconds with the
//!   sensor flagged lost, rejected items (`issues`), feature windows and their mean
//!   quality (0-1), beats accepted and rejected as artefacts counted once each
//!   ([`distinct_beats`]: over feature windows that do not overlap, whole numbers),
//!   RR intervals logged, estimates (one per window) and how many were usable, and the
//!   seconds in which the newest estimate abstained.
//! - **Sound allowance** (`allowance`): the last second's meter: share of the weekly
//!   allowance used, dose (Pa²h), Leq (dB SPL), and whether the level was calibrated.
//! - **Live playback** (`playback`): the decisions of kind `playback`: underruns (gaps
//!   the listener heard, which a `--record` file does not contain), device losses and
//!   stalls, with their times; empty for offline renders.
//! - **Escalations** (`escalations`): the decisions of kind `escalation`, with their
//!   times and messages; `review_flags` counts every decision marked for review.
//!
//! Runs on the control/batch side.

use super::read::SessionData;
use super::timeline::Row;
use super::REPORT_FORMAT_VERSION;
use crate::log_schema::{AllowanceRecord, LogSummary};
use isochord_biometrics::hrv::time_domain;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// `summary.json`: the session's figures (see the module docs). Written with its objects'
/// keys in sorted order ([`Summary::to_json`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Layout version of `summary.json` ([`REPORT_FORMAT_VERSION`]).
    pub report_format_version: u32,
    /// Session facts.
    pub session: SessionFacts,
    /// The baseline and closing spans, session seconds (`[start, end]`).
    pub spans_s: Spans,
    /// Heart rate, beats/min.
    pub heart_rate_bpm: Change,
    /// RMSSD, ms.
    pub rmssd_ms: HrvChange,
    /// SDNN, ms.
    pub sdnn_ms: HrvChange,
    /// Breathing rate, breaths/min.
    pub breathing_rate_per_min: BreathingChange,
    /// The breath guide.
    pub breath_guide: BreathGuide,
    /// Skin conductance, µS.
    pub eda_us: Change,
    /// Arousal, 0-1.
    pub arousal: ArousalChange,
    /// Time to calm, session seconds; `None` if the listener never calmed.
    pub time_to_calm_s: Option<f64>,
    /// Seconds per protocol phase.
    pub time_in_phase_s: BTreeMap<String, u64>,
    /// Seconds per policy action.
    pub time_in_action_s: BTreeMap<String, u64>,
    /// Seconds per arousal band (`low`, `moderate`, `high`, `no_estimate`).
    pub time_in_arousal_band_s: BTreeMap<String, u64>,
    /// Signal quality and data loss.
    pub signal_quality: SignalQuality,
    /// The sound-allowance meter at the end.
    pub allowance: AllowanceRecord,
    /// Escalations.
    pub escalations: Escalations,
    /// Live playback problems.
    pub playback: Playback,
    /// Decisions logged.
    pub decisions: usize,
    /// Decisions flagged for review.
    pub review_flags: usize,
}

impl Summary {
    /// As JSON, every object's keys in sorted order (the layout of `summary.json`).
    pub fn to_json(&self) -> Json {
        serde_json::to_value(self).expect("the summary serialises to JSON")
    }
}

/// The session's facts, from the log's header.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionFacts {
    /// Preset name.
    pub preset: Option<String>,
    /// The preset's goal.
    pub goal: Option<String>,
    /// Sound palette.
    pub palette: Option<String>,
    /// Biometric source.
    pub source: Option<String>,
    /// The biometrics were simulated.
    pub simulated: Option<bool>,
    /// Arousal estimator.
    pub estimator: Option<String>,
    /// Random seed.
    pub seed: Option<u64>,
    /// Engine version that wrote the log.
    pub engine_version: Option<String>,
    /// The log's format version.
    pub log_format_version: u32,
    /// When the session ran (for a replay, when it was rendered), RFC 3339 UTC.
    pub started_at: Option<String>,
    /// The session replayed a recording.
    pub replay: bool,
    /// When the physiological data were recorded, RFC 3339 UTC, when known.
    pub recording_started_at: Option<String>,
    /// Planned length, seconds.
    pub planned_duration_s: Option<f64>,
    /// Logged length, seconds.
    pub recorded_duration_s: f64,
    /// The session stopped before its planned end (or its log was cut).
    pub partial: bool,
    /// Why it is partial.
    pub partial_reason: Option<String>,
}

/// The baseline and closing spans, `[start, end]` in session seconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Spans {
    /// The baseline span.
    pub baseline: [f64; 2],
    /// The closing span.
    pub closing: [f64; 2],
}

/// A figure over the baseline and closing spans, and its change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Over the baseline span.
    pub baseline: Option<f64>,
    /// Over the closing span.
    pub closing: Option<f64>,
    /// Closing minus baseline.
    pub change: Option<f64>,
}

/// RMSSD or SDNN over the spans, with the beats counted and where the figures came from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HrvChange {
    /// The figures.
    #[serde(flatten)]
    pub figures: Change,
    /// RR intervals logged in the baseline span.
    pub baseline_beats: usize,
    /// RR intervals logged in the closing span.
    pub closing_beats: usize,
    /// Where the baseline figure came from ([`hrv_or_windows`]).
    pub baseline_source: String,
    /// Where the closing figure came from.
    pub closing_source: String,
}

/// Breathing rate over the spans.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BreathingChange {
    /// The figures.
    #[serde(flatten)]
    pub figures: Change,
    /// `resp_rate` (the source's) or `win_resp_rate` (the feature windows').
    pub source: String,
}

/// Arousal over the spans, with the engine's own figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ArousalChange {
    /// The figures.
    #[serde(flatten)]
    pub figures: Change,
    /// The engine's arousal at the start (the log's summary).
    pub engine_start: Option<f64>,
    /// The engine's arousal at the end.
    pub engine_end: Option<f64>,
}

/// The breath guide.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BreathGuide {
    /// The listener's breathing rate at rest, breaths/min (the log's summary).
    pub baseline_per_min: Option<f64>,
    /// Mean rate the guide played, breaths/min.
    pub mean_guide_rate_per_min: Option<f64>,
}

/// Signal quality and data loss.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SignalQuality {
    /// Seconds logged.
    pub seconds: usize,
    /// Seconds in which no sensor item arrived.
    pub seconds_without_data: usize,
    /// Their share of all seconds.
    pub data_loss_fraction: Option<f64>,
    /// Seconds with the sensor flagged lost.
    pub sensor_lost_seconds: usize,
    /// Items rejected.
    pub issues: u64,
    /// Feature windows.
    pub windows: usize,
    /// Their mean quality, 0-1.
    pub mean_window_quality: Option<f64>,
    /// Beats accepted, each counted once ([`distinct_beats`]).
    pub beats: u64,
    /// Beats rejected as artefacts, each counted once.
    pub rejected_beats: u64,
    /// RR intervals logged.
    pub rr_intervals: usize,
    /// Estimates (one per window).
    pub estimates: usize,
    /// Usable estimates.
    pub usable_estimates: usize,
    /// Seconds in which the newest estimate abstained.
    pub abstaining_seconds: usize,
}

/// Something that happened at a time.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TimedMessage {
    /// Session seconds.
    pub time_s: f64,
    /// What happened.
    pub message: String,
}

/// Escalations.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Escalations {
    /// How many.
    pub count: usize,
    /// Each, in time order.
    pub events: Vec<TimedMessage>,
}

/// Live playback problems.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Playback {
    /// Underruns (gaps the listener heard).
    pub underruns: usize,
    /// Output device losses and stalls.
    pub device_losses: usize,
    /// Each playback event, in time order.
    pub events: Vec<TimedMessage>,
}

/// Longest baseline / closing span, seconds.
pub const SPAN_S: f64 = 300.0;
/// Fewest RR intervals for RMSSD / SDNN.
pub const MIN_BEATS: usize = 10;
/// Smoothed arousal below which the listener counts as calm.
pub const CALM_AROUSAL: f64 = 0.5;
/// Seconds the arousal must stay below [`CALM_AROUSAL`].
pub const CALM_HOLD_S: usize = 60;

/// The baseline and closing spans `(baseline_end, closing_start)` for a session ending at `end`.
pub fn spans(end: f64) -> (f64, f64) {
    let span = SPAN_S.min(end / 3.0);
    (span, end - span)
}

fn mean(v: impl Iterator<Item = f64>) -> Option<f64> {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| s / n as f64)
}

fn r(x: Option<f64>, digits: i32) -> Option<f64> {
    let k = 10f64.powi(digits);
    x.map(|v| (v * k).round() / k)
}

fn pair(b: Option<f64>, c: Option<f64>, digits: i32) -> Change {
    Change {
        baseline: r(b, digits),
        closing: r(c, digits),
        change: r(b.zip(c).map(|(b, c)| c - b), digits),
    }
}

/// RMSSD and SDNN (ms) of the RR intervals in `rows`, with the interval count.
pub fn hrv_of(rows: &[&Row]) -> (Option<f64>, Option<f64>, usize) {
    let rr: Vec<f64> = rows.iter().flat_map(|r| r.rr_ms.iter().copied()).collect();
    if rr.len() < MIN_BEATS {
        return (None, None, rr.len());
    }
    let td = time_domain(&rr, None);
    (td.rmssd, td.sdnn, rr.len())
}

/// RMSSD, SDNN, the RR intervals counted and where the figures come from over a span:
/// from the logged RR intervals (`"rr_intervals"`) when there are at least
/// [`MIN_BEATS`], else the mean of the feature windows completing in the span
/// (`"feature_windows"`: their beats may come from the pulse or ECG waveform, which the
/// log does not carry beat by beat), else `None` (`"none"`).
pub fn hrv_or_windows(rows: &[&Row]) -> (Option<f64>, Option<f64>, usize, &'static str) {
    let (rmssd, sdnn, n) = hrv_of(rows);
    if rmssd.is_some() {
        return (rmssd, sdnn, n, "rr_intervals");
    }
    let win = |f: fn(&super::timeline::WindowRow) -> Option<f64>| {
        mean(rows.iter().filter_map(|r| r.window.as_ref().and_then(f)))
    };
    let (rmssd, sdnn) = (win(|w| w.rmssd), win(|w| w.sdnn));
    if rmssd.is_some() || sdnn.is_some() {
        (rmssd, sdnn, n, "feature_windows")
    } else {
        (None, None, n, "none")
    }
}

/// Time to calm (see the module docs), session seconds.
pub fn time_to_calm(rows: &[Row]) -> Option<f64> {
    let mut run = 0;
    for (i, row) in rows.iter().enumerate() {
        if row.policy_arousal.is_some_and(|a| a < CALM_AROUSAL) {
            run += 1;
            if run >= CALM_HOLD_S {
                let first = i + 1 - run;
                // the start of the first second of the run
                return Some(rows[first].t - 1.0);
            }
        } else {
            run = 0;
        }
    }
    None
}

/// Accepted and rejected beats, each counted once: summed over the feature windows that
/// do not overlap, taken in time order from the first (a window is taken when it starts
/// at or after the end of the last one taken; without a logged start, windows are 60 s
/// long). Feature windows overlap (60 s every 5 s), so summing all of them would count
/// each beat about twelve times.
pub fn distinct_beats(rows: &[Row]) -> (u64, u64) {
    let mut last_end = f64::NEG_INFINITY;
    let (mut beats, mut rejected) = (0u64, 0u64);
    for w in rows.iter().filter_map(|r| r.window.as_ref()) {
        let start = w.start.unwrap_or(w.end - 60.0);
        if start + 1e-6 >= last_end {
            last_end = w.end;
            beats += w.beats.unwrap_or(0.0).round() as u64;
            rejected += w.rejected_beats.unwrap_or(0.0).round() as u64;
        }
    }
    (beats, rejected)
}

/// Arousal band of an estimate.
pub fn band(a: Option<f64>) -> &'static str {
    match a {
        None => "no_estimate",
        Some(a) if a < 1.0 / 3.0 => "low",
        Some(a) if a < 2.0 / 3.0 => "moderate",
        Some(_) => "high",
    }
}

/// The figures of `summary.json` (see the module docs).
pub fn summarise(d: &SessionData) -> Summary {
    let end = d.end_s();
    let (b_end, c_start) = spans(end);
    let base: Vec<&Row> = d.rows.iter().filter(|r| r.t <= b_end).collect();
    let close: Vec<&Row> = d.rows.iter().filter(|r| r.t > c_start).collect();
    let over =
        |rows: &[&Row], f: &dyn Fn(&Row) -> Option<f64>| mean(rows.iter().filter_map(|r| f(r)));

    let hr = pair(over(&base, &|r| r.hr_bpm), over(&close, &|r| r.hr_bpm), 2);
    let (b_rmssd, b_sdnn, b_beats, b_src) = hrv_or_windows(&base);
    let (c_rmssd, c_sdnn, c_beats, c_src) = hrv_or_windows(&close);
    let hrv = |figures: Change| HrvChange {
        figures,
        baseline_beats: b_beats,
        closing_beats: c_beats,
        baseline_source: b_src.into(),
        closing_source: c_src.into(),
    };
    let rmssd = hrv(pair(b_rmssd, c_rmssd, 2));
    let sdnn = hrv(pair(b_sdnn, c_sdnn, 2));
    let from_source = d.rows.iter().any(|r| r.resp_rate.is_some());
    let resp = move |r: &Row| {
        if from_source {
            r.resp_rate
        } else {
            r.window.as_ref().and_then(|w| w.resp_rate)
        }
    };
    let breath = BreathingChange {
        figures: pair(over(&base, &resp), over(&close, &resp), 2),
        source: if from_source {
            "resp_rate"
        } else {
            "win_resp_rate"
        }
        .into(),
    };
    let eda = pair(over(&base, &|r| r.eda_us), over(&close, &|r| r.eda_us), 3);
    let engine = |f: fn(&LogSummary) -> Option<f64>| d.summary.as_ref().and_then(f);
    let arousal = ArousalChange {
        figures: pair(
            over(&base, &|r| r.usable_arousal()),
            over(&close, &|r| r.usable_arousal()),
            4,
        ),
        engine_start: engine(|s| s.arousal_start),
        engine_end: engine(|s| s.arousal_end),
    };

    let mut phases: BTreeMap<String, u64> = BTreeMap::new();
    let mut actions: BTreeMap<String, u64> = BTreeMap::new();
    let mut bands: BTreeMap<String, u64> = ["low", "moderate", "high", "no_estimate"]
        .into_iter()
        .map(|b| (b.to_string(), 0))
        .collect();
    for row in &d.rows {
        *phases.entry(row.phase.clone()).or_default() += 1;
        *actions.entry(row.action.clone()).or_default() += 1;
        *bands.entry(band(row.usable_arousal()).into()).or_default() += 1;
    }

    let n = d.rows.len();
    let no_data = d.rows.iter().filter(|r| r.items == 0).count();
    let windows: Vec<_> = d.rows.iter().filter_map(|r| r.window.as_ref()).collect();
    let distinct = distinct_beats(&d.rows);
    let mut estimates: Vec<(f64, bool)> = Vec::new();
    // distinct estimates: the model record repeats until a new window arrives
    for row in &d.rows {
        if let (Some(_), Some(w)) = (row.arousal, row.window.as_ref()) {
            estimates.push((w.end, !row.abstain));
        }
    }
    let quality = SignalQuality {
        seconds: n,
        seconds_without_data: no_data,
        data_loss_fraction: r((n > 0).then(|| no_data as f64 / n as f64), 4),
        sensor_lost_seconds: d.rows.iter().filter(|r| r.sensor_lost_s.is_some()).count(),
        issues: d.rows.iter().map(|r| r.issues).sum::<u64>(),
        windows: windows.len(),
        mean_window_quality: r(mean(windows.iter().filter_map(|w| w.quality)), 3),
        beats: distinct.0,
        rejected_beats: distinct.1,
        rr_intervals: d.rows.iter().map(|r| r.rr_ms.len()).sum::<usize>(),
        estimates: estimates.len(),
        usable_estimates: estimates.iter().filter(|e| e.1).count(),
        abstaining_seconds: d
            .rows
            .iter()
            .filter(|r| r.arousal.is_some() && r.abstain)
            .count(),
    };

    let last = |f: &dyn Fn(&Row) -> Option<f64>| d.rows.iter().rev().find_map(f);
    let allowance = d
        .summary
        .as_ref()
        .and_then(|s| s.allowance.clone())
        .unwrap_or_else(|| AllowanceRecord {
            used: last(&|r| r.allowance_used),
            leq_db: last(&|r| r.leq_db),
            ..AllowanceRecord::default()
        });
    let timed = |e: &&super::timeline::Decision| TimedMessage {
        time_s: e.time,
        message: e.message.clone(),
    };
    let escalations: Vec<TimedMessage> = d
        .decisions
        .iter()
        .filter(|e| e.kind == "escalation")
        .map(|e| timed(&e))
        .collect();

    let playback: Vec<&super::timeline::Decision> = d
        .decisions
        .iter()
        .filter(|e| e.kind == "playback")
        .collect();
    let playback = Playback {
        underruns: playback
            .iter()
            .filter(|e| e.message.starts_with("output underrun"))
            .count(),
        device_losses: playback
            .iter()
            .filter(|e| {
                e.message.starts_with("output device lost") || e.message.contains("stalled")
            })
            .count(),
        events: playback.iter().map(timed).collect(),
    };
    let h = &d.header;
    let partial = d.partial_reason();
    Summary {
        report_format_version: REPORT_FORMAT_VERSION,
        session: SessionFacts {
            preset: h.preset.clone(),
            goal: h.goal.clone(),
            palette: h.palette.clone(),
            source: h.source.clone(),
            simulated: h.simulated,
            estimator: h.estimator.clone(),
            seed: h.seed,
            engine_version: h.engine_version.clone(),
            log_format_version: h.format_version,
            started_at: h.started_at.clone(),
            replay: d.is_replay(),
            recording_started_at: d.recording_start(),
            planned_duration_s: h.duration_s,
            recorded_duration_s: end,
            partial: partial.is_some(),
            partial_reason: partial,
        },
        spans_s: Spans {
            baseline: [0.0, round(b_end, 3)],
            closing: [round(c_start, 3), end],
        },
        heart_rate_bpm: hr,
        rmssd_ms: rmssd,
        sdnn_ms: sdnn,
        breathing_rate_per_min: breath,
        breath_guide: BreathGuide {
            baseline_per_min: engine(|s| s.breath_baseline),
            mean_guide_rate_per_min: r(mean(d.rows.iter().filter_map(|r| r.breath_guide)), 2),
        },
        eda_us: eda,
        arousal,
        time_to_calm_s: time_to_calm(&d.rows),
        time_in_phase_s: phases,
        time_in_action_s: actions,
        time_in_arousal_band_s: bands,
        signal_quality: quality,
        allowance,
        escalations: Escalations {
            count: escalations.len(),
            events: escalations,
        },
        playback,
        decisions: d.decisions.len(),
        review_flags: d.decisions.iter().filter(|e| e.review).count(),
    }
}

fn round(x: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (x * k).round() / k
}
