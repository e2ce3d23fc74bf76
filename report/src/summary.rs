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
use crate::log_schema::LogSummary;
use isochord_biometrics::hrv::time_domain;
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;

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

fn r(x: Option<f64>, digits: i32) -> Json {
    let k = 10f64.powi(digits);
    x.map_or(Json::Null, |v| json!((v * k).round() / k))
}

fn pair(b: Option<f64>, c: Option<f64>, digits: i32) -> Map<String, Json> {
    let mut m = Map::new();
    m.insert("baseline".into(), r(b, digits));
    m.insert("closing".into(), r(c, digits));
    m.insert("change".into(), r(b.zip(c).map(|(b, c)| c - b), digits));
    m
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
pub fn summarise(d: &SessionData) -> Json {
    let end = d.end_s();
    let (b_end, c_start) = spans(end);
    let base: Vec<&Row> = d.rows.iter().filter(|r| r.t <= b_end).collect();
    let close: Vec<&Row> = d.rows.iter().filter(|r| r.t > c_start).collect();
    let over =
        |rows: &[&Row], f: &dyn Fn(&Row) -> Option<f64>| mean(rows.iter().filter_map(|r| f(r)));

    let hr = pair(over(&base, &|r| r.hr_bpm), over(&close, &|r| r.hr_bpm), 2);
    let (b_rmssd, b_sdnn, b_beats, b_src) = hrv_or_windows(&base);
    let (c_rmssd, c_sdnn, c_beats, c_src) = hrv_or_windows(&close);
    let mut rmssd = pair(b_rmssd, c_rmssd, 2);
    let mut sdnn = pair(b_sdnn, c_sdnn, 2);
    for m in [&mut rmssd, &mut sdnn] {
        m.insert("baseline_beats".into(), json!(b_beats));
        m.insert("closing_beats".into(), json!(c_beats));
        m.insert("baseline_source".into(), json!(b_src));
        m.insert("closing_source".into(), json!(c_src));
    }
    let from_source = d.rows.iter().any(|r| r.resp_rate.is_some());
    let resp = move |r: &Row| {
        if from_source {
            r.resp_rate
        } else {
            r.window.as_ref().and_then(|w| w.resp_rate)
        }
    };
    let mut breath = pair(over(&base, &resp), over(&close, &resp), 2);
    breath.insert(
        "source".into(),
        json!(if from_source {
            "resp_rate"
        } else {
            "win_resp_rate"
        }),
    );
    let eda = pair(over(&base, &|r| r.eda_us), over(&close, &|r| r.eda_us), 3);
    let mut arousal = pair(
        over(&base, &|r| r.usable_arousal()),
        over(&close, &|r| r.usable_arousal()),
        4,
    );
    let engine = |f: fn(&LogSummary) -> Option<f64>| json!(d.summary.as_ref().and_then(f));
    arousal.insert("engine_start".into(), engine(|s| s.arousal_start));
    arousal.insert("engine_end".into(), engine(|s| s.arousal_end));

    let mut phases: BTreeMap<String, u64> = BTreeMap::new();
    let mut actions: BTreeMap<String, u64> = BTreeMap::new();
    let mut bands: BTreeMap<&str, u64> = ["low", "moderate", "high", "no_estimate"]
        .into_iter()
        .map(|b| (b, 0))
        .collect();
    for row in &d.rows {
        *phases.entry(row.phase.clone()).or_default() += 1;
        *actions.entry(row.action.clone()).or_default() += 1;
        *bands.entry(band(row.usable_arousal())).or_default() += 1;
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
    let quality = json!({
        "seconds": n,
        "seconds_without_data": no_data,
        "data_loss_fraction": r((n > 0).then(|| no_data as f64 / n as f64), 4),
        "sensor_lost_seconds": d.rows.iter().filter(|r| r.sensor_lost_s.is_some()).count(),
        "issues": d.rows.iter().map(|r| r.issues).sum::<u64>(),
        "windows": windows.len(),
        "mean_window_quality": r(mean(windows.iter().filter_map(|w| w.quality)), 3),
        "beats": distinct.0,
        "rejected_beats": distinct.1,
        "rr_intervals": d.rows.iter().map(|r| r.rr_ms.len()).sum::<usize>(),
        "estimates": estimates.len(),
        "usable_estimates": estimates.iter().filter(|e| e.1).count(),
        "abstaining_seconds": d.rows.iter().filter(|r| r.arousal.is_some() && r.abstain).count(),
    });

    let last = |f: &dyn Fn(&Row) -> Option<f64>| d.rows.iter().rev().find_map(f);
    let allowance = d
        .summary
        .as_ref()
        .and_then(|s| s.allowance.as_ref())
        .map(|a| json!(a))
        .unwrap_or_else(
            || json!({ "used": last(&|r| r.allowance_used), "leq_db": last(&|r| r.leq_db) }),
        );
    let escalations: Vec<Json> = d
        .decisions
        .iter()
        .filter(|e| e.kind == "escalation")
        .map(|e| json!({"time_s": e.time, "message": e.message}))
        .collect();

    let playback: Vec<&super::timeline::Decision> = d
        .decisions
        .iter()
        .filter(|e| e.kind == "playback")
        .collect();
    let playback = json!({
        "underruns": playback.iter().filter(|e| e.message.starts_with("output underrun")).count(),
        "device_losses": playback.iter().filter(|e| e.message.starts_with("output device lost") || e.message.contains("stalled")).count(),
        "events": playback.iter().map(|e| json!({"time_s": e.time, "message": e.message})).collect::<Vec<_>>(),
    });
    let h = &d.header;
    let partial = d.partial_reason();
    json!({
        "report_format_version": REPORT_FORMAT_VERSION,
        "session": {
            "preset": h.preset,
            "goal": h.goal,
            "palette": h.palette,
            "source": h.source,
            "simulated": h.simulated,
            "estimator": h.estimator,
            "seed": h.seed,
            "engine_version": h.engine_version,
            "log_format_version": h.format_version,
            "started_at": h.started_at,
            "replay": d.is_replay(),
            "recording_started_at": d.recording_start(),
            "planned_duration_s": h.duration_s,
            "recorded_duration_s": end,
            "partial": partial.is_some(),
            "partial_reason": partial,
        },
        "spans_s": { "baseline": [0.0, r(Some(b_end), 3)], "closing": [r(Some(c_start), 3), end] },
        "heart_rate_bpm": hr,
        "rmssd_ms": rmssd,
        "sdnn_ms": sdnn,
        "breathing_rate_per_min": breath,
        "breath_guide": {
            "baseline_per_min": engine(|s| s.breath_baseline),
            "mean_guide_rate_per_min": r(mean(d.rows.iter().filter_map(|r| r.breath_guide)), 2),
        },
        "eda_us": eda,
        "arousal": arousal,
        "time_to_calm_s": time_to_calm(&d.rows),
        "time_in_phase_s": phases,
        "time_in_action_s": actions,
        "time_in_arousal_band_s": bands,
        "signal_quality": quality,
        "allowance": allowance,
        "escalations": { "count": escalations.len(), "events": escalations },
        "playback": playback,
        "decisions": d.decisions.len(),
        "review_flags": d.decisions.iter().filter(|e| e.review).count(),
    })
}
