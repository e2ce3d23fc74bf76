//! The session log: JSON Lines, one record per second of session time, plus a header
//! and a summary. Each record holds the raw signal summary of that second, the newest
//! feature window (when one completed), the model output, the policy's phase, action and
//! reason, the decisions taken, the sound asked for, the output level and the allowance
//! used. Written on the control thread; never on the audio thread.
//!
//! The header carries `started_at` (wall-clock UTC when the log was opened) and each
//! second's `raw` record the RR intervals received in it (`rr_ms`), so a report can
//! recompute heart-rate variability from the beats themselves.

use super::outcome::SessionOutcome;
use crate::allowance::SoundAllowance;
use crate::biometrics::features::FeatureWindow;
use crate::biometrics::signal::{SensorData, Value, WaveKind};
use crate::mood::ArousalEstimate;
use crate::policy::{PolicyStatus, SessionEvent};
use isochord_report::log_schema::{
    record_line, AllowanceRecord, LogDecision, LogSummary, ModelRecord, OutputRecord, ParamsRecord,
    PolicyRecord, RawRecord, SecondRecord, WindowRecord, HEADER, SECOND, SUMMARY,
};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::io::{BufWriter, Write};

pub use isochord_report::log_schema::{LogHeader, LOG_FORMAT_VERSION};
pub use isochord_report::utc::{format_utc, utc_now};

/// What arrived from the sensors during one second.
#[derive(Clone, Debug, Default)]
pub struct RawSummary {
    /// Readings and waveform chunks received.
    pub items: u64,
    /// Rejected or ignored items (issues).
    pub issues: u64,
    hr: (f64, u32),
    rr: (f64, u32),
    rr_ms: Vec<f64>,
    eda: (f64, u32),
    resp_rate: Option<f64>,
    temp: Option<f64>,
    acc: u32,
    contact_lost: u32,
    wave: [u32; 3],
}

impl RawSummary {
    /// Counts `data`.
    pub fn add(&mut self, data: &SensorData) {
        self.items += 1;
        match data {
            SensorData::Reading(r) => match r.value {
                Value::HeartRate(v) => {
                    self.hr.0 += v as f64;
                    self.hr.1 += 1;
                }
                Value::Rr(v) => {
                    self.rr.0 += v as f64;
                    self.rr.1 += 1;
                    self.rr_ms.push(v as f64);
                }
                Value::Eda(v) => {
                    self.eda.0 += v as f64;
                    self.eda.1 += 1;
                }
                Value::RespRate(v) => self.resp_rate = Some(v as f64),
                Value::Temp(v) => self.temp = Some(v as f64),
                Value::Acc(_) => self.acc += 1,
                Value::Resp(_) => self.wave[2] += 1,
                Value::ContactLost => self.contact_lost += 1,
            },
            SensorData::Waveform(w) => {
                let i = match w.kind {
                    WaveKind::Ecg => 0,
                    WaveKind::Ppg => 1,
                    WaveKind::Resp => 2,
                };
                self.wave[i] += w.samples.len() as u32;
            }
        }
    }

    fn record(&self) -> RawRecord {
        let mean = |(s, n): (f64, u32)| (n > 0).then(|| round(s / n as f64, 3));
        let count = |n: u32| (n > 0).then_some(n as f64);
        RawRecord {
            items: self.items,
            issues: self.issues,
            hr_bpm: mean(self.hr),
            rr_ms_mean: mean(self.rr),
            rr_count: count(self.rr.1),
            eda_us: mean(self.eda),
            resp_rate: self.resp_rate.map(|v| round(v, 2)),
            temp_c: self.temp.map(|v| round(v, 2)),
            acc_samples: count(self.acc),
            contact_lost: count(self.contact_lost),
            ecg_samples: count(self.wave[0]),
            ppg_samples: count(self.wave[1]),
            resp_samples: count(self.wave[2]),
            rr_ms: self.rr_ms.iter().map(|v| round(*v, 1)).collect(),
        }
    }
}

fn round(x: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (x * k).round() / k
}

fn db(x: f64) -> Option<f64> {
    (x > 0.0).then(|| round(20.0 * x.log10(), 2))
}

/// One second's record (borrowed parts, serialised at once).
pub struct LogRecord<'a> {
    /// End of the second, session seconds.
    pub time: f64,
    /// What arrived.
    pub raw: &'a RawSummary,
    /// A feature window completed in this second.
    pub window: Option<&'a FeatureWindow>,
    /// The newest estimate.
    pub estimate: Option<&'a ArousalEstimate>,
    /// The policy.
    pub status: &'a PolicyStatus,
    /// Events of this second.
    pub events: &'a [SessionEvent],
    /// Output RMS over the second (linear), when audio was metered.
    pub output_rms: Option<f64>,
    /// Output peak over the second (linear).
    pub output_peak: Option<f64>,
    /// The allowance meter.
    pub allowance: &'a SoundAllowance,
}

/// Writes the log.
pub struct SessionLog {
    out: BufWriter<Box<dyn Write + Send>>,
    error: Option<String>,
}

impl SessionLog {
    /// A log writing to `out`; `header`'s session facts go into the first line, with the
    /// format version, the engine version and the time now.
    pub fn new(out: Box<dyn Write + Send>, header: LogHeader) -> Self {
        let mut log = Self {
            out: BufWriter::new(out),
            error: None,
        };
        let header = LogHeader {
            format_version: LOG_FORMAT_VERSION,
            engine_version: Some(env!("CARGO_PKG_VERSION").into()),
            started_at: Some(utc_now()),
            ..header
        };
        log.line(&record_line(HEADER, &header));
        log
    }

    /// The first write error, if any (the session goes on without its log; the caller
    /// must fail the run). Control thread.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Writes one record and flushes it, so a killed process leaves every record it
    /// wrote whole (at most the last line torn).
    fn line(&mut self, v: &Json) {
        if self.error.is_some() {
            return;
        }
        let r = serde_json::to_writer(&mut self.out, v)
            .map_err(|e| e.to_string())
            .and_then(|()| self.out.write_all(b"\n").map_err(|e| e.to_string()))
            .and_then(|()| self.out.flush().map_err(|e| e.to_string()));
        if let Err(e) = r {
            self.error = Some(e);
        }
    }

    /// Writes one second.
    pub fn write(&mut self, r: &LogRecord<'_>) {
        let s = r.status;
        let named = |values: &mut dyn Iterator<Item = (&'static str, Option<f64>)>| {
            values
                .filter_map(|(name, v)| v.map(|v| (name.to_string(), round(v, 4))))
                .collect::<BTreeMap<String, f64>>()
        };
        let window = r.window.map(|w| WindowRecord {
            start: Some(round(w.start, 3)),
            end: Some(round(w.end, 3)),
            features: named(&mut w.features.iter().map(|(f, v)| (f.name(), v))),
            relative: w
                .relative
                .as_ref()
                .map(|rv| named(&mut rv.iter().map(|(f, v)| (f.name(), v)))),
            quality: Some(round(w.quality, 3)),
            beats: Some(w.beats as u64),
            rejected_beats: Some(w.rejected_beats as u64),
            rejected_samples: Some(w.rejected_samples),
        });
        let model = r.estimate.map(|e| ModelRecord {
            estimator: e.estimator.clone(),
            window_end: Some(round(e.time, 3)),
            arousal: Some(round(e.arousal, 4)),
            confidence: Some(round(e.confidence, 4)),
            probabilities: e
                .probabilities
                .iter()
                .map(|(k, v)| (k.clone(), round(*v, 4)))
                .collect(),
            abstain: e.abstain.as_ref().map(|a| a.to_string()),
        });
        let policy = PolicyRecord {
            phase: s.phase.clone(),
            action: s.action.name().into(),
            reason: s.reason.clone(),
            level: Some(round(s.level, 4)),
            arousal: s.arousal.map(|a| round(a, 4)),
            trend_per_min: s.trend_per_min.map(|a| round(a, 4)),
            grounding: s.grounding,
            sensor_lost_s: s.sensor_lost_s.map(|a| round(a, 1)),
            breath_baseline: s.breath_baseline.map(|a| round(a, 2)),
            breath_target: s.breath_target.map(|a| round(a, 2)),
        };
        let params = ParamsRecord {
            tempo: Some(round(s.sound.tempo as f64, 3)),
            brightness: Some(round(s.sound.brightness as f64, 4)),
            density: Some(round(s.sound.density as f64, 4)),
            energy: Some(round(s.sound.energy as f64, 4)),
            reverb: Some(round(s.sound.reverb as f64, 4)),
            breath_rate: Some(round(s.breath_guide, 3)),
        };
        let output = r.output_rms.map(|rms| OutputRecord {
            rms_dbfs: db(rms),
            peak_dbfs: r.output_peak.and_then(db),
            spl_db: Some(round(r.allowance.level_db(rms), 2)),
        });
        let record = SecondRecord {
            t: round(r.time, 3),
            raw: r.raw.record(),
            window,
            model,
            policy,
            decisions: (!r.events.is_empty()).then(|| decisions(r.events)),
            params,
            output,
            allowance: Some(allowance_record(r.allowance)),
        };
        self.line(&record_line(SECOND, &record));
    }

    /// Writes the closing summary.
    pub fn summary(
        &mut self,
        time: f64,
        o: &SessionOutcome,
        allowance: &SoundAllowance,
        events: &[SessionEvent],
    ) {
        let record = LogSummary {
            t: round(time, 3),
            arousal_start: o.arousal_start.map(|a| round(a, 4)),
            arousal_end: o.arousal_end.map(|a| round(a, 4)),
            usable_estimates: o.usable_estimates.0 as u64,
            estimates: o.usable_estimates.1 as u64,
            escalations: u64::from(o.escalations),
            events: o.events as u64,
            breath_baseline: o.breath_baseline.map(|a| round(a, 2)),
            allowance: Some(allowance_record(allowance)),
            decisions: decisions(events),
        };
        self.line(&record_line(SUMMARY, &record));
    }

    /// Flushes buffered lines (each record is flushed as it is written; this also
    /// catches a failure the last flush reported late). Control thread.
    pub fn flush(&mut self) {
        if self.error.is_some() {
            return;
        }
        if let Err(e) = self.out.flush() {
            self.error = Some(e.to_string());
        }
    }
}

/// The name a value serialises to (a unit enum's `snake_case` name), empty if none.
pub fn serde_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Json::String(s)) => s,
        _ => String::new(),
    }
}

fn decisions(events: &[SessionEvent]) -> Vec<LogDecision> {
    events
        .iter()
        .map(|e| LogDecision {
            time: e.time,
            kind: e.kind.name().into(),
            message: e.message.clone(),
            review: e.review,
        })
        .collect()
}

fn allowance_record(a: &SoundAllowance) -> AllowanceRecord {
    let c = a.config();
    AllowanceRecord {
        used: Some(round(a.used(), 6)),
        dose_pa2h: Some(round(a.dose_pa2h(), 8)),
        leq_db: a.leq_db().map(|x| round(x, 2)),
        calibration_db: Some(c.calibration_db),
        calibrated: Some(c.calibrated),
        listener: Some(serde_name(&c.listener)),
    }
}
